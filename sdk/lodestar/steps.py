"""Which steps each key was logged at, to notice a value that replaces another.

Steps are kept as sorted, disjoint ranges per key, so a key logged at every
step (the usual case) costs two integers however long the run is.
"""

from __future__ import annotations

from bisect import bisect_right


class StepRanges:
    """A set of integers stored as sorted, disjoint, non-adjacent ranges."""

    __slots__ = ("starts", "ends")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def add(self, step: int) -> bool:
        """Add `step`; True when it was already there."""
        ends = self.ends
        if not ends or step > ends[-1] + 1:
            self.starts.append(step)
            ends.append(step)
            return False
        if step == ends[-1] + 1:
            ends[-1] = step
            return False
        return self._add_inside(step)

    def __contains__(self, step: int) -> bool:
        index = bisect_right(self.starts, step) - 1
        return index >= 0 and step <= self.ends[index]

    def _add_inside(self, step: int) -> bool:
        starts, ends = self.starts, self.ends
        index = bisect_right(starts, step) - 1
        if index >= 0 and step <= ends[index]:
            return True
        joins_left = index >= 0 and ends[index] == step - 1
        joins_right = index + 1 < len(starts) and starts[index + 1] == step + 1
        if joins_left and joins_right:
            ends[index] = ends[index + 1]
            del starts[index + 1], ends[index + 1]
        elif joins_left:
            ends[index] = step
        elif joins_right:
            starts[index + 1] = step
        else:
            starts.insert(index + 1, step)
            ends.insert(index + 1, step)
        return False


class KeySteps:
    """The steps at which each key has been stored."""

    def __init__(self) -> None:
        self._ranges: dict[str, StepRanges] = {}

    def record(self, step: int, keys) -> list[str]:
        """Record `keys` at `step`; return those already stored there."""
        replaced: list[str] = []
        ranges = self._ranges
        for key in keys:
            seen = ranges.get(key)
            if seen is None:
                seen = ranges[key] = StepRanges()
            elif seen.ends[-1] == step - 1:  # the usual case, kept inline
                seen.ends[-1] = step
                continue
            if seen.add(step):
                replaced.append(key)
        return replaced
