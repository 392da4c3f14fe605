"""Optional packages of the ``media`` extra, imported only when a type needs them.

``import lodestar`` never imports numpy, Pillow, pandas or matplotlib: each
media type asks for what it needs here, at the moment it needs it, and a
missing package becomes a `MissingExtra` that names the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from ..errors import MissingExtra

MEDIA = "media"
VIDEO = "video"

_PACKAGES = {
    "numpy": ("numpy", MEDIA),
    "PIL.Image": ("Pillow", MEDIA),
    "pandas": ("pandas", MEDIA),
    "matplotlib": ("matplotlib", MEDIA),
    "imageio_ffmpeg": ("imageio-ffmpeg", VIDEO),
}


def require(module: str, feature: str) -> ModuleType:
    """Import `module` for `feature`, or raise `MissingExtra` naming the extra.

    Raises:
        MissingExtra: the package is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package, extra = _PACKAGES.get(module, (module.split(".")[0], MEDIA))
        raise MissingExtra(package, extra, feature) from exc


def numpy(feature: str) -> ModuleType:
    return require("numpy", feature)


def pil_image(feature: str) -> ModuleType:
    return require("PIL.Image", feature)
