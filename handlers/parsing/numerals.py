"""Text normalisation and numbers: full-width forms, Chinese numerals, English number words."""

from __future__ import annotations

import re
from functools import cache

from handlers.parsing.lexicon import alternation, lexicon

# Full-width digits, letters and the separators numbers use become ASCII, one character for
# one. Chinese punctuation (，。：；！？) is kept, except the colon inside times, handled by the
# time patterns, so topics still read as the user wrote them.
_HALF_WIDTH: dict[int, int | str] = {
    code: code - 0xFEE0 for code in range(0xFF10, 0xFF1A)
}  # ０-９
_HALF_WIDTH |= {code: code - 0xFEE0 for code in range(0xFF21, 0xFF3B)}  # Ａ-Ｚ
_HALF_WIDTH |= {code: code - 0xFEE0 for code in range(0xFF41, 0xFF5B)}  # ａ-ｚ
_HALF_WIDTH |= {
    ord("＃"): "#",
    ord("／"): "/",
    ord("．"): ".",
    ord("－"): "-",
    ord("～"): "~",
    ord("＋"): "+",
    ord("＠"): "@",
    ord("："): ":",
    ord("\u2212"): "-",  # minus sign
    ord("\u3000"): " ",  # ideographic space
}
# Control characters (and our own span marker) never reach the patterns.
_HALF_WIDTH |= dict.fromkeys(range(0x00, 0x20), " ")
_HALF_WIDTH |= {0x7F: " "}

_CN_CHARS = "零〇一二两三四五六七八九十百千万"


def normalise(text: str) -> str:
    """Return the text with full-width digits/letters/#/: made ASCII and controls made spaces."""
    return text.translate(_HALF_WIDTH)


def chinese_to_int(numeral: str) -> int | None:
    """Read a Chinese numeral: 十二 → 12, 一百零五 → 105, 二〇二六 → 2026; None if unreadable."""
    table = lexicon()
    digits: dict[str, int] = table.table("numerals", "digits")
    units: dict[str, int] = table.table("numerals", "units")
    if not numeral or any(char not in digits and char not in units for char in numeral):
        return None
    if all(char in digits for char in numeral):
        # Positional: 二〇二六, or a single digit.
        return int("".join(str(digits[char]) for char in numeral))
    total = section = digit = 0
    for char in numeral:
        if char in digits:
            digit = digits[char]
        elif units[char] == 10_000:
            total += (section + digit) * 10_000
            section = digit = 0
        else:
            section += (digit or 1) * units[char]
            digit = 0
    return total + section + digit


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    table = lexicon()
    units = alternation(table.words("numerals", "followed_by"))
    cn = f"[{_CN_CHARS}]"
    # A Chinese numeral (not a weekday: 周三, 星期三, 礼拜三) in front of a unit.
    chinese = re.compile(
        rf"(?<![{_CN_CHARS}周期拜])({cn}{{1,10}})(?=\s{{0,2}}(?:个半|个)?\s{{0,2}}"
        rf"(?:余|多|来|几)?\s{{0,2}}个?\s{{0,2}}{units})"
    )
    half = re.compile(r"(\d{1,4})\s{0,2}个半\s{0,2}(小时|钟头|钟)|(?<![\d.个])半个?(小时|钟头)")
    english_words = alternation(table.table("numerals", "english"))
    english = re.compile(
        rf"(?<![a-z]){english_words}(?=\s{{1,2}}(?:and a half\s{{1,2}})?"
        r"(?:people|persons|volunteers|residents|households|homes|families|hours?|hrs?|"
        r"minutes|mins|party members|attended|participants))",
        re.IGNORECASE,
    )
    english_half = re.compile(
        r"(\d{1,3})\s{1,2}and a half\s{1,2}(hours?)|(?<![a-z])half an? hour(?![a-z])",
        re.IGNORECASE,
    )
    return chinese, half, english, english_half


def convert_numbers(text: str) -> str:
    """Turn numerals in front of units into digits: 十二人 → 12人, 一个半小时 → 1.5小时.

    Chinese numerals elsewhere (一起, 三会一课, 周三) are left alone. Two consecutive digits
    in front of a unit are a range: 五六人 → 5-6人.
    """
    chinese, half, english, english_half = _patterns()
    text = chinese.sub(_chinese_numeral, text)
    text = half.sub(_half_hour, text)
    text = english_half.sub(_english_half_hour, text)
    english_numbers = lexicon().section("numerals", "english")
    return english.sub(lambda match: str(english_numbers[match.group(0).lower()]), text)


def _chinese_numeral(match: re.Match[str]) -> str:
    numeral = match.group(1)
    digits: dict[str, int] = lexicon().table("numerals", "digits")
    if len(numeral) == 2 and all(char in digits for char in numeral):
        low, high = digits[numeral[0]], digits[numeral[1]]
        if high == low + 1:
            return f"{low}-{high}"
    value = chinese_to_int(numeral)
    return numeral if value is None else str(value)


def _half_hour(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{match.group(1)}.5{match.group(2)}"
    return f"0.5{match.group(3)}"


def _english_half_hour(match: re.Match[str]) -> str:
    if match.group(1) is not None:
        return f"{match.group(1)}.5 {match.group(2)}"
    return "0.5 hours"
