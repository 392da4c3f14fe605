"""`Html`: a page of HTML, from text or a file, stored as an ``.html`` file."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ..errors import UsageError
from .base import Media, read_file

STYLE = ('<meta charset="utf-8"><style>body{font-family:system-ui,sans-serif;'
         'margin:0.5em}</style>')


class Html(Media):
    """HTML to show beside a run.

    Args:
        text_or_path: the HTML text, or the path of an ``.html`` file.
        inject: add a charset and a plain default style at the top of the
            page, so that a fragment shows readably.
    """

    _type: ClassVar[str] = "html-file"
    _folder: ClassVar[str] = "html"

    def __init__(self, text_or_path: Any, inject: bool = True) -> None:
        super().__init__()
        if isinstance(text_or_path, os.PathLike) or (
            isinstance(text_or_path, str) and text_or_path.endswith((".html", ".htm"))
            and os.path.isfile(text_or_path)
        ):
            text = read_file(text_or_path, "HTML").decode("utf-8", "replace")
        elif isinstance(text_or_path, str):
            text = text_or_path
        else:
            raise UsageError(f"Html takes text or a file path, not "
                             f"{type(text_or_path).__name__}")
        if inject:
            text = _inject(text)
        self._set_content(text.encode("utf-8"), "html")


def _inject(text: str) -> str:
    lower = text.lower()
    head = lower.find("<head>")
    if head >= 0:
        at = head + len("<head>")
        return text[:at] + STYLE + text[at:]
    return STYLE + text
