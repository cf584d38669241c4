"""The pure parts of activity logging: which messages are ours, reading a corrected value, and a
sentence for every problem the parser can report."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from telegram import Chat, Message, User

from handlers.activities import ACTIVITY_TAG
from handlers.activity_render import ActivityView, read_field_value, render_activity
from handlers.checkins import CHECKIN_WORDS
from handlers.i18n import LOCALE_DIRS, Messages, catalogue
from handlers.parsing import PROBLEM_CODES
from storage.tables import Activity

TODAY = date(2026, 11, 16)


def _message(text: str, *, private: bool = True) -> Message:
    chat = Chat(1, Chat.PRIVATE) if private else Chat(-1, Chat.GROUP, title="群")
    return Message(
        1, datetime(2026, 11, 16, tzinfo=UTC), chat, from_user=User(1, "张", False), text=text
    )


@pytest.mark.parametrize(
    "text",
    [
        "#志愿 清理楼道",
        "＃会议 听证会",
        "#走访6户",
        "#volunteer 8 people",
        "今天 #巡查 3人",
        "#Drill fire drill",
        "#服务 理发",
    ],
)
def test_activity_tags_are_ours(text: str) -> None:
    assert ACTIVITY_TAG.filter(_message(text))


@pytest.mark.parametrize(
    "text",
    [
        "#报事 楼道堆物",
        "#issue broken lamp",
        "#随手报 #志愿",
        "/log 清理",
        "清理楼道 10人",
        "#volunteering",
        "#零报告 无异常",
    ],
)
def test_other_messages_are_not(text: str) -> None:
    assert not ACTIVITY_TAG.filter(_message(text))


def test_checkin_words_need_a_tag_in_groups() -> None:
    assert CHECKIN_WORDS.filter(_message("无异常"))
    assert CHECKIN_WORDS.filter(_message("#零报告 无异常", private=False))
    assert not CHECKIN_WORDS.filter(_message("无异常", private=False))
    assert not CHECKIN_WORDS.filter(_message("#志愿 无异常"))


@pytest.mark.parametrize(
    ("field", "text", "value"),
    [
        ("participants", "12", 12),
        ("participants", "12人", 12),
        ("participants", "十二人", 12),
        ("participants", "十二", 12),
        ("participants", "-3人", -3),
        ("participants", "好多", None),
        ("households", "８户", 8),
        ("hours", "2", 2.0),
        ("hours", "1.5", 1.5),
        ("hours", "两小时", 2.0),
        ("hours", "半小时", 0.5),
        ("hours", "一个半小时", 1.5),
        ("hours", "90分钟", 1.5),
        ("hours", "500小时", 500.0),
        ("date", "昨天", date(2026, 11, 15)),
        ("date", "11月3日", date(2026, 11, 3)),
        ("date", "2026-11-03", date(2026, 11, 3)),
        ("date", "上周六", date(2026, 11, 14)),
        ("date", "2月30日", None),
        ("date", "随便", None),
        ("activity_type", "会议", "meeting"),
        ("activity_type", "#走访", "visit"),
        ("activity_type", "Patrol", "patrol"),
        ("activity_type", "党建", "party"),
        ("meeting_type", "听证会", "hearing"),
        ("meeting_type", "三会一课", "party"),
        ("meeting_type", "其他会议", "other"),
        ("meeting_type", "hearing", "hearing"),
        ("meeting_type", "吃饭", None),
        ("decision", "通过", "passed"),
        ("decision", "未通过", "rejected"),
        ("decision", "待定", "pending"),
        ("decision", "不知道", None),
        ("building", "3栋", "3号楼"),
        ("building", "12幢", "12号楼"),
        ("topic", "  清理楼道 ", "清理楼道"),
    ],
)
def test_reading_a_corrected_value(field: str, text: str, value: Any) -> None:
    assert read_field_value(field, text, today=TODAY, locale="zh") == value


@pytest.mark.parametrize("locale", list(LOCALE_DIRS))
def test_every_parser_problem_has_a_sentence(locale: str) -> None:
    codes = {*PROBLEM_CODES, "unknown_building", "ambiguous_building"}
    missing = sorted(c for c in codes if f"activity.problem.{c}" not in catalogue(locale))
    assert missing == []


def test_the_reply_says_what_was_not_understood_and_escapes_it() -> None:
    activity = Activity(
        activity_type=None,
        occurred_on=TODAY,
        raw_text="x",
        source_chat_id=1,
        source_message_id=1,
        created_at=datetime.now(UTC),
        updated_at=datetime.now(UTC),
        topic="<b>楼道</b>",
    )
    view = ActivityView(
        activity, problems=("unknown_activity_type",), unparsed=[f"{n}楼" for n in range(20)]
    )
    text = render_activity(Messages("zh"), view)
    assert "看不出是哪类活动" in text
    assert "这些我没看懂：0楼、1楼" in text
    assert "还有12处" in text
    assert "&lt;b&gt;楼道&lt;/b&gt;" in text
    english = render_activity(Messages("en"), view)
    assert "cannot tell which kind" in english
