"""describe(): the plain-text reading shown by `govbot parse` without --json."""

from __future__ import annotations

from datetime import date

import pytest

from handlers.parsing import ParseResult, describe, parse_message

TODAY = date(2026, 11, 22)


def test_describe_volunteer_in_chinese() -> None:
    result = parse_message("#志愿 今天组织10名志愿者清理3号楼楼道，共2小时", today=TODAY)
    assert describe(result, "zh").splitlines() == [
        "类型：活动记录",
        "活动：志愿服务",
        "日期：2026-11-22",
        "楼栋：3号楼",
        "人数：10",
        "每人时长（小时）：2",
        "总人时：20",
        "内容：清理楼道",
    ]


def test_describe_meeting_in_english() -> None:
    result = parse_message("#meeting hearing parking fees 32 attended passed", today=TODAY)
    text = describe(result, "en")
    assert "Meeting type: hearing" in text
    assert "Participants: 32" in text
    assert "Decision: passed" in text


def test_describe_names_the_category_and_problems() -> None:
    issue = parse_message("#报事 闻到煤气味", today=TODAY)
    assert "类别：燃气泄漏" in describe(issue)
    bad = parse_message("#志愿 -3人 30小时 3米", today=TODAY)
    text = describe(bad, "en")
    assert "a negative count" in text
    assert "implausible hours" in text
    assert "Not understood: 3米" in text


def test_describe_marks_approximate_counts() -> None:
    assert "约数：是" in describe(parse_message("#志愿 十余人 1小时", today=TODAY))


def test_parse_message_never_raises_even_on_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(text: str, **_: object) -> ParseResult:
        raise RuntimeError("bug")

    monkeypatch.setattr("handlers.parsing.parser.parse_message_strict", broken)
    result = parse_message(" #志愿 5人 ", today=TODAY)
    assert result.kind == "unknown"
    assert result.unparsed == ("#志愿 5人",)
