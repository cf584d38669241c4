"""Masking personal numbers in text a chat will show: mobiles, landlines, ID card numbers.

Pure. The stored report keeps what was typed (the committee may need to call back); every
message the bot sends about an issue passes its text through :func:`mask_personal_numbers`.
``\\d`` matches full-width digits too, and the fixed digits allow them, so １３８… is caught.
"""

from __future__ import annotations

import re

# 18-character 身份证: 17 digits and a digit or X check character.
_ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![\dA-Za-z])")
# Mainland mobile 1[3-9]x xxxx xxxx, optionally +86 / 86, optionally split by spaces or dashes.
_MOBILE = re.compile(
    r"(?<!\d)((?:[+＋]?[8８][6６][-\s]?)?[1１][3-9３-９]\d)[-\s]?\d{4}[-\s]?(\d{4})(?!\d)"
)
# Landline: area code 0xx / 0xxx, then 7–8 digits (021-58881234, 0571 8888 1234).
_LANDLINE = re.compile(r"(?<!\d)([0０]\d{2,3})[-\s]?\d{3,4}[-\s]?(\d{4})(?!\d)")


def mask_personal_numbers(text: str) -> str:
    """Replace the middle of every phone and ID number in ``text`` with asterisks."""
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}{'*' * 11}{m.group(2)}", text)
    text = _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return _LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", text)
