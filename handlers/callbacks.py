"""Inline-button data: ``prefix:part:part``, at most 64 bytes, checked on the way back in.

Any group member can press any button and a client can send any ``callback_data`` at all, so
:func:`unpack` accepts only the expected prefix and number of parts; the handler then checks the
presser's role for the unit the button touches.
"""

from __future__ import annotations

from storage.db import whole_number

MAX_CALLBACK_BYTES = 64


def pack(prefix: str, *parts: object) -> str:
    data = ":".join([prefix, *(str(p) for p in parts)])
    if len(data.encode()) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data too long: {data!r}")
    return data


def unpack(data: str | None, prefix: str, parts: int) -> list[str] | None:
    """The parts of ``data`` if it is ``prefix`` with exactly ``parts`` parts, else None."""
    if not data:
        return None
    pieces = data.split(":")
    if pieces[0] != prefix or len(pieces) != parts + 1 or any(not p for p in pieces[1:]):
        return None
    return pieces[1:]


def is_number(part: str) -> bool:
    """Is this part a row id or a count (``storage.db.whole_number``)? Data can be forged."""
    return whole_number(part) is not None


def pattern(prefix: str) -> str:
    """The regex a CallbackQueryHandler uses to route a prefix."""
    return rf"^{prefix}:"
