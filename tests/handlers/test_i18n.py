"""The message catalogue is complete: a message id without a translation fails here."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from handlers.i18n import LOCALE_DIRS, Messages, catalogue
from handlers.start import HELP_ORDER
from storage.tables import Audience, Role

ROOT = Path(__file__).resolve().parents[2]
CODE_DIRS = [ROOT / "bot", ROOT / "handlers", ROOT / "storage", ROOT / "scoring"]
# `_("id", …)`, `_.raw("id", …)`, `messages("id")` and `Messages(x)("id")` with a literal id.
LITERAL_ID = re.compile(
    r"""(?:\b_|\.raw|\bMessages\([^)]*\))\(\s*["']([a-z][a-z0-9_]*\.[a-z0-9_.]+)["']"""
)
DOMAIN_ERROR = re.compile(r"""DomainError\(\s*["']([a-z][a-z0-9_]*\.[a-z0-9_.]+)["']""")


def _source_files() -> list[Path]:
    return [p for d in CODE_DIRS if d.exists() for p in d.rglob("*.py")]


def _ids_in_code(pattern: re.Pattern[str]) -> set[str]:
    return {m for path in _source_files() for m in pattern.findall(path.read_text("utf-8"))}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_locale_has_the_same_message_ids() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert sorted(set(zh) - set(en)) == []
    assert sorted(set(en) - set(zh)) == []


@pytest.mark.parametrize("locale", list(LOCALE_DIRS))
def test_every_message_id_used_in_code_is_translated(locale: str) -> None:
    used = _ids_in_code(LITERAL_ID)
    assert used, "the pattern found no message ids at all"
    missing = sorted(used - set(catalogue(locale)))
    assert missing == []


@pytest.mark.parametrize("locale", list(LOCALE_DIRS))
def test_every_domain_error_has_a_sentence(locale: str) -> None:
    codes = _ids_in_code(DOMAIN_ERROR)
    assert codes
    missing = sorted(f"error.{c}" for c in codes if f"error.{c}" not in catalogue(locale))
    assert missing == []


@pytest.mark.parametrize("locale", list(LOCALE_DIRS))
def test_names_built_from_enums_are_translated(locale: str) -> None:
    ids = {f"role.{r.value}" for r in Role} | {f"audience.{a.value}" for a in Audience}
    ids |= {f"help.{a.value}" for a in HELP_ORDER}
    assert sorted(ids - set(catalogue(locale))) == []


def test_translations_use_the_same_placeholders() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    different = [m for m in zh if m in en and _placeholders(zh[m]) != _placeholders(en[m])]
    assert different == []


def test_parameters_are_escaped_for_telegram_html() -> None:
    text = Messages("en")("error.unit.unknown", ref="<b>3&4</b>")
    assert "&lt;b&gt;3&amp;4&lt;/b&gt;" in text
