"""Errors that storage raises for a user to read.

Storage never speaks user text: it raises a :class:`DomainError` with a stable code and
parameters, and the handlers turn ``error.<code>`` into a sentence from the message catalogue.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A rule of the domain refused an operation; ``code`` names the rule."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params

    def __str__(self) -> str:
        details = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.code} ({details})" if details else self.code
