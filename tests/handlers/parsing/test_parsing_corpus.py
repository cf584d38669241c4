"""The parser against a corpus of realistic messages (corpus.toml), field by field."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from handlers.parsing import FIELDS, parse_message_strict

CORPUS_PATH = Path(__file__).with_name("corpus.toml")
CORPUS = tomllib.loads(CORPUS_PATH.read_text(encoding="utf-8"))
TODAY: date = CORPUS["today"]

# Checked in every case (absent means empty); topic and unparsed only when a case gives them.
ALWAYS_CHECKED = tuple(field for field in FIELDS if field not in ("text", "topic", "unparsed"))
EMPTY: dict[str, Any] = {"problems": [], "approximate": False, "date": TODAY.isoformat()}


def expected_value(case: dict[str, Any], field: str) -> Any:
    if field not in case:
        return EMPTY.get(field)
    value = case[field]
    if isinstance(value, date):
        return value.isoformat()
    if value == "none":
        return None
    return value


def checked_fields(case: dict[str, Any]) -> tuple[str, ...]:
    extra = tuple(field for field in ("topic", "unparsed") if field in case)
    return ALWAYS_CHECKED + extra


def test_corpus_is_big_enough() -> None:
    assert len(CORPUS["case"]) >= 150


def test_corpus_texts_are_unique() -> None:
    texts = [case["text"] for case in CORPUS["case"]]
    assert len(texts) == len(set(texts))


# Ids by position: pytest would escape Chinese ids into unreadable \\u sequences.
@pytest.mark.parametrize(
    "case", CORPUS["case"], ids=[f"case{index:03d}" for index in range(len(CORPUS["case"]))]
)
def test_corpus_case(case: dict[str, Any], field_accuracy: dict[str, list[bool]]) -> None:
    got = parse_message_strict(case["text"], today=TODAY).to_dict()
    assert got["text"] == case["text"]
    wrong = {}
    for field in checked_fields(case):
        want = expected_value(case, field)
        right = got[field] == want
        field_accuracy[field].append(right)
        if not right:
            wrong[field] = {"want": want, "got": got[field]}
    if "xfail" in case:
        if wrong:
            pytest.xfail(case["xfail"])
        pytest.fail(f"marked xfail ({case['xfail']}) but now parses right: remove the mark")
    assert not wrong, f"{case['text']!r}: {wrong}"
