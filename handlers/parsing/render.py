"""A short plain-text description of a ParseResult, for `govbot parse` without --json.

The bot's own Telegram replies are built from the message catalogue elsewhere; the labels
here live in lexicon.toml ([labels.*], [values.*]).
"""

from __future__ import annotations

from handlers.parsing.lexicon import lexicon
from handlers.parsing.result import ParseResult
from storage.categories import load_catalog

_SHOWN = (
    "activity_type",
    "meeting_type",
    "date",
    "building",
    "participants",
    "party_members",
    "hours",
    "person_hours",
    "households",
    "decision",
    "category",
    "topic",
)


def describe(result: ParseResult, locale: str = "zh") -> str:
    """Return one "label：value" line per field that was found, then unparsed and problems."""
    language = "en" if locale.lower().startswith("en") else "zh"
    labels: dict[str, str] = lexicon().table("labels", language)
    values: dict[str, str] = lexicon().table("values", language)
    colon = ": " if language == "en" else "："
    data = result.to_dict()
    lines = [f"{labels['kind']}{colon}{values.get(result.kind, result.kind)}"]
    for field in _SHOWN:
        value = data[field]
        if value is None:
            continue
        lines.append(f"{labels[field]}{colon}{_value(field, value, values, language)}")
    if result.approximate:
        lines.append(f"{labels['approximate']}{colon}{labels['yes']}")
    separator = ", " if language == "en" else "、"
    if result.unparsed:
        lines.append(f"{labels['unparsed']}{colon}{separator.join(result.unparsed)}")
    if result.problems:
        named = (values.get(code, code) for code in result.problems)
        lines.append(f"{labels['problems']}{colon}{separator.join(named)}")
    return "\n".join(lines)


def _value(field: str, value: object, values: dict[str, str], language: str) -> str:
    if field == "category" and isinstance(value, str):
        catalog = load_catalog()
        return catalog.get(value).name(language) if value in catalog else value
    if field in ("activity_type", "meeting_type", "decision") and isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
