"""The text being parsed, with the pieces already understood blanked out."""

from __future__ import annotations

import re
from collections.abc import Callable

# Stands in for every character of a recognised piece. normalise() turns control characters
# in the input into spaces, so the marker can only come from here.
MARK = "\x01"


class WorkingText:
    """A string from which extractors consume what they understand, left to right."""

    def __init__(self, text: str) -> None:
        self.text = text

    def consume(self, pattern: re.Pattern[str], accept: Callable[[re.Match[str]], bool]) -> None:
        """Blank out every match that `accept` understood (it returns True for those)."""

        def replace(match: re.Match[str]) -> str:
            if accept(match):
                return MARK * len(match.group(0))
            return match.group(0)

        self.text = pattern.sub(replace, self.text)

    def remainder(self) -> str:
        """Return what is left, with blanked spans reduced to a single marker."""
        return re.sub(f"{MARK}+", MARK, self.text)
