"""Properties of the parser over arbitrary input: it never raises and its fields stay in range."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from handlers.parsing import (
    ACTIVITY_TYPES,
    DECISIONS,
    FIELDS,
    KINDS,
    MEETING_TYPES,
    PROBLEM_CODES,
    ParseResult,
    describe,
    parse_message,
    parse_message_strict,
)
from storage.categories import load_catalog

TODAY = date(2026, 11, 22)

# Pieces of the kind the parser looks for, so random strings reach deep into it.
PIECES = [
    "#志愿",
    "＃会议",
    "#走访",
    "#报事",
    "#零报告",
    "#volunteer",
    "/log ",
    "/report ",
    "十二人",
    "两小时",
    "半小时",
    "一个半小时",
    "20多名",
    "十余人",
    "5-6人",
    "-3人",
    "0人",
    "１２人",
    "3号楼",
    "502室",
    "12幢",
    "5号",
    "昨天",
    "上周六",
    "本周三",
    "11月3日",
    "11.3",
    "2026-11-03",
    "2月30日",
    "下午2点到4点",
    "9:00-11:30",
    "14：00—16：00",
    "走访6户",
    "其中党员5名",
    "听证会",
    "三会一课",
    "通过",
    "未通过",
    "暂缓",
    "无异常",
    "有情况",
    "8 people",
    "3h",
    "yesterday",
    "Nov 3",
    "building 3",
    "passed",
    "👍",
    "，",
    " ",
    "\n",
    "\x01",
    "\x00",
    "30小时",
    "20000人",
    "1.5",
    "点",
    "号",
    "-",
    "~",
    "到",
]
messages = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=25).map("".join),
)


def assert_in_range(result: ParseResult) -> None:
    assert result.kind in KINDS
    assert result.activity_type is None or result.activity_type in ACTIVITY_TYPES
    assert result.meeting_type is None or result.meeting_type in MEETING_TYPES
    assert result.decision is None or result.decision in DECISIONS
    for count in (result.participants, result.party_members, result.households):
        assert count is None or 1 <= count <= 10_000
    assert result.hours is None or 0 < result.hours <= 24
    assert result.person_hours is None or result.person_hours > 0
    assert set(result.problems) <= set(PROBLEM_CODES)
    assert len(result.problems) == len(set(result.problems))
    assert result.category is None or result.category in load_catalog()
    if result.kind != "activity":
        assert result.activity_type is None
    if result.kind in ("issue", "checkin"):
        assert result.participants is None
        assert result.hours is None


@settings(max_examples=400, deadline=None)
@given(messages)
def test_never_raises_and_stays_in_range(text: str) -> None:
    result = parse_message_strict(text, today=TODAY)
    assert result.text == text
    assert_in_range(result)


@settings(max_examples=200, deadline=None)
@given(messages, st.dates(min_value=date(2000, 3, 1), max_value=date(2090, 12, 31)))
def test_dates_are_never_after_today_without_a_problem(text: str, today: date) -> None:
    result = parse_message_strict(text, today=today)
    if result.date is not None and result.date > today:
        assert "future_date" in result.problems


@settings(max_examples=200, deadline=None)
@given(messages, st.sampled_from(["zh", "en", "en-GB"]))
def test_to_dict_is_json_with_exactly_the_fields(text: str, locale: str) -> None:
    data = parse_message(text, today=TODAY, locale=locale).to_dict()
    assert tuple(data) == FIELDS
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data


@settings(max_examples=100, deadline=None)
@given(messages)
def test_describe_always_gives_text(text: str) -> None:
    result = parse_message_strict(text, today=TODAY)
    for locale in ("zh", "en"):
        assert describe(result, locale).strip()


def test_long_input_is_fast() -> None:
    texts = [
        "#志愿 " + "今天组织10名志愿者清理3号楼楼道，共2小时，" * 200,
        "#志愿 " + "1" * 5000,
        "#会议 " + " " * 5000 + "5",
        "#志愿 " + "一" * 5000 + "人",
        "#志愿 1" + " " * 5000 + "人",
        "#" * 5000,
        "5-" * 2500,
        "1点" * 2500,
    ]
    for text in texts:
        started = time.perf_counter()
        assert_in_range(parse_message_strict(text, today=TODAY))
        assert time.perf_counter() - started < 0.5, text[:20]


@pytest.mark.parametrize(
    ("text", "participants", "hours", "households"),
    [
        ("#会议 12 PARTİCİPANTS", 12, None, None),  # İ: IGNORECASE reads it as i, lower() not
        ("#巡查 partıcıpants 12, 30 mınutes", 12, 0.5, None),
        ("#志愿 12 participantſ", 12, None, None),
        ("#走访 8 FAMİLİES", None, None, 8),
    ],
)
def test_counts_in_letters_ignorecase_folds_are_still_read(
    text: str, participants: int | None, hours: float | None, households: int | None
) -> None:
    result = parse_message(text, today=date(2026, 11, 18))
    assert (result.participants, result.hours, result.households) == (
        participants,
        hours,
        households,
    )
