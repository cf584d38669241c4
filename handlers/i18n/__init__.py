"""The message catalogue: every user-facing string, in Simplified Chinese and English.

Messages live in gettext catalogues (``locales/<locale>/LC_MESSAGES/<domain>.po``, read with
Babel), one domain per feature so each can grow on its own. Message ids are symbolic
(``start.stranger``), so a missing translation shows up as the id itself and the catalogue test
fails. Placeholders use ``{name}``; values are HTML-escaped here, the one place where user text
is escaped for Telegram's HTML parse mode.
"""

from __future__ import annotations

import html
import logging
from functools import cache
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
LOCALE_DIRS = {"zh": "zh_CN", "en": "en"}
DEFAULT_LOCALE = "zh"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """Every translated message of ``locale`` (all domains), keyed by message id."""
    folder = LOCALES_DIR / LOCALE_DIRS[locale] / "LC_MESSAGES"
    messages: dict[str, str] = {}
    for po_file in sorted(folder.glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle, locale=LOCALE_DIRS[locale]):
                if message.id and isinstance(message.id, str) and message.string:
                    messages[message.id] = str(message.string)
    return messages


class Messages:
    """Translates message ids for one locale: ``_ = Messages("zh"); _("help.title")``."""

    def __init__(self, locale: str) -> None:
        self.locale = locale if locale in LOCALE_DIRS else DEFAULT_LOCALE

    def __call__(self, msgid: str, /, **params: Any) -> str:
        """The message, with ``params`` HTML-escaped and filled in."""
        return self.raw(msgid, **{k: _escape(v) for k, v in params.items()})

    def raw(self, msgid: str, /, **params: Any) -> str:
        """The message with ``params`` filled in as given (already-safe HTML fragments)."""
        template = catalogue(self.locale).get(msgid)
        if template is None:
            logger.error("message id %r has no %s translation", msgid, self.locale)
            template = catalogue(DEFAULT_LOCALE).get(msgid, msgid)
        try:
            return template.format(**params)
        except (KeyError, IndexError, ValueError):
            logger.exception("message %r could not be filled with %s", msgid, sorted(params))
            return template

    def has(self, msgid: str) -> bool:
        return msgid in catalogue(self.locale)


def _escape(value: Any) -> str:
    return html.escape(str(value), quote=False)


def escape(text: str) -> str:
    """Escape user text for Telegram HTML outside a catalogue message."""
    return _escape(text)
