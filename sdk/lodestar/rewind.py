"""``init(resume_from=...)`` and ``init(fork_from=...)``: continue from a step.

Both take ``"<run_id>?_step=N"``.

- ``resume_from`` rewinds the run itself to step N, for example after
  restoring an older checkpoint: the platform starts a new epoch, hides the
  rows logged after N in earlier epochs (they are kept, not deleted),
  recomputes the summary from what remains, and logging continues at N + 1.
- ``fork_from`` starts a new run that shares the history of the given run up
  to step N and logs its own from N + 1.

Either can be repeated: a rewound run can be rewound again, a fork forked.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from ._proto import events_pb2
from .errors import UsageError

_REF = re.compile(r"^(?P<run>[^/\\?]+)\?_step=(?P<step>[0-9]+)$")


@dataclasses.dataclass(frozen=True)
class StepRef:
    """A run and a step in it."""

    run_id: str
    step: int

    @property
    def text(self) -> str:
        return f"{self.run_id}?_step={self.step}"


def parse(text: Any, argument: str) -> StepRef:
    """`text` as a `StepRef`.

    Raises:
        UsageError: it is not ``"<run_id>?_step=N"`` with N >= 0.
    """
    match = _REF.match(text) if isinstance(text, str) else None
    if match is None:
        raise UsageError(
            f"{argument}={text!r} is not understood; write '<run_id>?_step=N', "
            "for example 'abc123?_step=200'"
        )
    return StepRef(match["run"], int(match["step"]))


def apply(plan: Any, resume_from: Any, fork_from: Any, given_id: str | None) -> Any:
    """The resume plan of `init` with a rewind or a fork applied to it.

    Raises:
        UsageError: both are given, or they contradict `given_id`.
    """
    if resume_from is None and fork_from is None:
        return plan
    if resume_from is not None and fork_from is not None:
        raise UsageError("pass resume_from= or fork_from=, not both")
    if resume_from is not None:
        ref = parse(resume_from, "resume_from")
        if given_id is not None and given_id != ref.run_id:
            raise UsageError(
                f"resume_from={resume_from!r} rewinds run {ref.run_id!r}, but "
                f"id={given_id!r} was given; drop id= or make them agree"
            )
        return dataclasses.replace(
            plan, run_id=ref.run_id, mode=events_pb2.RESUME_MUST, previous=None,
            rewind=ref.text, start_step=ref.step + 1,
        )
    ref = parse(fork_from, "fork_from")
    if plan.run_id == ref.run_id:
        raise UsageError(
            f"fork_from={fork_from!r} needs a new run id, not {plan.run_id!r}"
        )
    return dataclasses.replace(
        plan, mode=events_pb2.RESUME_NEVER, previous=None, fork=ref.text,
        start_step=ref.step + 1,
    )
