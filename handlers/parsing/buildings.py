"""Buildings: 3号楼, 3栋, 12幢, 5号, building 3 → "3号楼". Room numbers are never kept.

A room (502室, the 502 in 3号楼502 or 3-502) is consumed so it cannot leak into the topic, and
then dropped: room numbers are personal data and must not reach resident chats. 3楼 is a floor,
not a building, and is left for the unparsed list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from handlers.parsing.lexicon import word_alternation
from handlers.parsing.working import WorkingText

_ROOM_AFTER = (
    r"(?:\s?\d{1,2}\s?单元)?(?:\s?(?:-\s?)?(?:\d{1,5}\s?(?:室|房)|"
    r"\d{3,4}(?![\d.]|\s{0,2}(?:人|名|位|户|家|小时|个|分|点|[a-z]))))?"
)


@dataclass(frozen=True)
class _Patterns:
    numbered: re.Pattern[str]
    lettered: re.Pattern[str]
    bare_number: re.Pattern[str]
    dashed: re.Pattern[str]
    english: re.Pattern[str]
    room: re.Pattern[str]


@cache
def _patterns() -> _Patterns:
    flags = re.IGNORECASE
    prefixes = word_alternation(["building", "bldg", "block", "blk"])
    return _Patterns(
        numbered=re.compile(rf"(?<![\d.])(\d{{1,4}})\s?(?:号楼|栋|幢|座|号\s?楼){_ROOM_AFTER}"),
        lettered=re.compile(rf"(?<![a-z])([a-z])\s?(?:栋|座|幢){_ROOM_AFTER}", flags),
        bare_number=re.compile(
            rf"(?<![\d.\-])(\d{{1,3}})\s?号(?!\s?(?:线|门|床|口|院|\d)){_ROOM_AFTER}"
        ),
        dashed=re.compile(r"(?<![\d.\-:])(\d{1,3})-(\d{3,4})(?:\s?室)?(?![\d.\-:])"),
        english=re.compile(
            rf"{prefixes}\.?\s{{0,2}}(?:no\.?\s{{0,2}}|#)?(\d{{1,4}}|[a-z])(?![\da-z])", flags
        ),
        room=re.compile(r"(?<![\d.])\d{1,5}\s?(?:室|房间)"),
    )


class _BuildingReader:
    def __init__(self) -> None:
        self.building: str | None = None

    def read(self, work: WorkingText) -> str | None:
        patterns = _patterns()
        work.consume(patterns.numbered, self._numbered)
        work.consume(patterns.lettered, self._lettered)
        work.consume(patterns.english, self._english)
        work.consume(patterns.dashed, self._numbered)
        work.consume(patterns.bare_number, self._numbered)
        work.consume(patterns.room, lambda _match: True)
        return self.building

    def _numbered(self, match: re.Match[str]) -> bool:
        number = int(match.group(1))
        if number == 0:
            return False
        return self._keep(f"{number}号楼")

    def _lettered(self, match: re.Match[str]) -> bool:
        return self._keep(f"{match.group(1).upper()}栋")

    def _english(self, match: re.Match[str]) -> bool:
        value = match.group(1)
        if value.isdigit():
            return self._numbered(match)
        return self._keep(f"{value.upper()}栋")

    def _keep(self, building: str) -> bool:
        if self.building is None:
            self.building = building
        return True


def read_building(work: WorkingText) -> str | None:
    """Consume building (and room) references; return the first building, normalised."""
    return _BuildingReader().read(work)
