"""How people name roles and audiences in commands (``/invite 楼组长 3号楼``)."""

from __future__ import annotations

from handlers.i18n import LOCALE_DIRS, Messages
from storage.tables import Audience, Role


def parse_role(word: str) -> Role | None:
    """A role from its code (``building_leader``) or its name in any locale (``楼组长``)."""
    word = word.strip().lower()
    for role in Role:
        names = {role.value} | {Messages(loc)(f"role.{role.value}").lower() for loc in LOCALE_DIRS}
        if word in names:
            return role
    return None


def parse_audience(word: str) -> Audience | None:
    word = word.strip().lower()
    for audience in Audience:
        names = {audience.value} | {
            Messages(loc)(f"audience.{audience.value}").lower() for loc in LOCALE_DIRS
        }
        if word in names:
            return audience
    return None
