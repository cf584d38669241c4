"""Random codes for invites and chat binding."""

from __future__ import annotations

import secrets

# No 0/O, 1/I/L: bind codes are read off a screen and typed by people.
_READABLE = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def invite_code() -> str:
    """A code for a deep link (``?start=``): URL-safe, 16 characters."""
    return secrets.token_urlsafe(12)


def bind_code() -> str:
    """A code typed after ``/bind``: 8 unambiguous characters."""
    return "".join(secrets.choice(_READABLE) for _ in range(8))
