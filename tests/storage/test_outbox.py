"""The outbox rows and their state machine, text splitting, and keyed job runs."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import select

from storage import outbox
from storage.db import Database
from storage.jobrun import finish_run, is_finished, run_once
from storage.outbox import OutboxState, photo_part, split_text, text_part
from storage.splitting import utf16_len, visible_text
from storage.tables import OutboxMessage
from tests.conftest import START

NOW = START
GROUP = -100_200
PRIVATE = 4242


def _enqueue(database: Database, chat_id: int = GROUP, period: str = "2026-W47", **kw: object):
    parts = kw.pop("parts", [text_part("<b>本周简报</b>"), text_part("第二部分")])
    with database.session() as session:
        return outbox.enqueue(
            session, chat_id=chat_id, kind="digest", period=period, parts=parts, now=NOW
        )


def _row(database: Database, message_id: int | None) -> OutboxMessage:
    with database.session() as session:
        row = session.get(OutboxMessage, message_id)
        assert row is not None
        return row


# -- Enqueue ------------------------------------------------------------------------------------


def test_enqueue_is_idempotent_on_chat_kind_period(database: Database):
    first = _enqueue(database)
    again = _enqueue(database, parts=[text_part("different text")])

    assert again.id == first.id
    assert outbox.decode_parts(_row(database, first.id).payload)[0].text == "<b>本周简报</b>"
    with database.session() as session:
        assert len(session.exec(select(OutboxMessage)).all()) == 1


def test_same_chat_other_period_is_a_new_row(database: Database):
    first = _enqueue(database)
    second = _enqueue(database, period="2026-W48")
    assert first.id != second.id


def test_enqueue_many_creates_only_what_is_missing(database: Database):
    existing = _enqueue(database)
    messages = [
        outbox.QueuedMessage(GROUP, "digest", "2026-W47", [text_part("x")]),
        outbox.QueuedMessage(PRIVATE, "digest", "2026-W47", [text_part("y")]),
    ]
    with database.session() as session:
        assert outbox.enqueue_many(session, messages=messages, now=NOW) == 1
        rows = session.exec(select(OutboxMessage).order_by(OutboxMessage.id)).all()  # type: ignore[arg-type]
    assert [r.chat_id for r in rows] == [GROUP, PRIVATE]
    assert rows[0].id == existing.id
    assert outbox.decode_parts(rows[0].payload)[0].text == "<b>本周简报</b>"
    assert (rows[1].state, rows[1].parts_sent) == (OutboxState.PENDING, 0)


def test_enqueue_refuses_empty_messages(database: Database):
    with pytest.raises(ValueError, match="show something"):
        _enqueue(database, parts=[text_part("  \n ")])
    with pytest.raises(ValueError, match="at least one part"):
        _enqueue(database, parts=[])


def test_long_text_and_long_caption_become_parts_that_fit():
    markup = {"inline_keyboard": [[{"text": "查看", "callback_data": "x"}]]}
    long_text = "\n".join(f"第{n}行：小区动态" for n in range(1500))
    caption = "图表说明\n" + "说明文字" * 400  # 1605 characters: over the 1024 caption limit

    parts = outbox.normalise_parts(
        [
            photo_part("/media/chart.png", caption=caption, reply_markup=markup),
            text_part(long_text, reply_markup=markup),
        ]
    )

    kinds = [part.kind for part in parts]
    assert kinds[0] == outbox.PartKind.PHOTO
    assert parts[0].text == ""  # the caption moved out of the photo ...
    assert parts[1].text == caption  # ... into the text part right after it
    assert all(part.kind == outbox.PartKind.TEXT for part in parts[1:])
    assert all(utf16_len(part.text) <= 4096 for part in parts)
    assert [part.reply_markup for part in parts] == [None, markup] + [None] * (len(parts) - 3) + [
        markup
    ]
    assert "\n".join(part.text for part in parts[2:]) == long_text


def test_short_caption_stays_on_the_photo():
    [part] = outbox.normalise_parts([photo_part("/m/a.png", caption="本周指数")])
    assert (part.photo, part.text) == ("/m/a.png", "本周指数")


# -- Claiming and recovery ----------------------------------------------------------------------


def test_claim_due_takes_due_pending_rows_once(database: Database):
    due = _enqueue(database, chat_id=1)
    later = _enqueue(database, chat_id=2)
    with database.session() as session:
        outbox.defer(
            session, message_id=later.id or 0, until=NOW + timedelta(minutes=5), error="x"
        )

    with database.session() as session:
        claimed = outbox.claim_due_rows(session, now=NOW, limit=10)
    with database.session() as session:
        again = outbox.claim_due_rows(session, now=NOW, limit=10)

    assert [row.id for row in claimed] == [due.id]
    assert _row(database, due.id).state == OutboxState.SENDING
    assert again == []
    with database.session() as session:
        assert outbox.next_due(session) == NOW + timedelta(minutes=5)


def test_claim_due_respects_the_limit_and_order(database: Database):
    ids = [_enqueue(database, chat_id=chat).id for chat in range(1, 6)]
    with database.session() as session:
        first = outbox.claim_due_rows(session, now=NOW, limit=2)
    with database.session() as session:
        rest = outbox.claim_due_rows(session, now=NOW, limit=10)
    assert [row.id for row in first] == ids[:2]
    assert [row.id for row in rest] == ids[2:]


def test_two_senders_never_claim_the_same_row(database: Database):
    with database.session() as session:
        messages = [
            outbox.QueuedMessage(chat, "digest", "W", [text_part("x")]) for chat in range(1, 201)
        ]
        outbox.enqueue_many(session, messages=messages, now=NOW)
    claimed: list[list[int]] = [[], [], [], []]

    def sender(index: int) -> None:
        while True:
            with database.session() as session:
                rows = outbox.claim_due_rows(session, now=NOW, limit=7)
            if not rows:
                return
            claimed[index].extend(row.id or 0 for row in rows)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    everything = [row_id for ids in claimed for row_id in ids]
    assert len(everything) == 200
    assert len(set(everything)) == 200


def test_recover_interrupted_resumes_from_the_first_unconfirmed_part(database: Database):
    row = _enqueue(database, parts=[text_part("一"), text_part("二"), text_part("三")])
    with database.session() as session:
        outbox.claim_due_rows(session, now=NOW, limit=1)
        outbox.mark_part_sent(session, message_id=row.id or 0, part=0, now=NOW)
    later = NOW + timedelta(minutes=3)

    with database.session() as session:
        assert outbox.recover_interrupted(session, now=later) == 1

    recovered = _row(database, row.id)
    assert (recovered.state, recovered.parts_sent, recovered.not_before) == (
        OutboxState.PENDING,
        1,
        later,
    )
    assert "part 2" in (recovered.last_error or "")


# -- Outcomes -----------------------------------------------------------------------------------


def test_parts_are_confirmed_in_order_and_the_last_one_finishes_the_row(database: Database):
    row = _enqueue(database)
    message_id = row.id or 0
    with database.session() as session:
        outbox.claim_due_rows(session, now=NOW, limit=1)
        outbox.mark_part_sent(session, message_id=message_id, part=0, now=NOW)
        outbox.mark_part_sent(session, message_id=message_id, part=0, now=NOW)  # replayed
        assert session.get(OutboxMessage, message_id).state == OutboxState.SENDING  # type: ignore[union-attr]
        outbox.mark_part_sent(session, message_id=message_id, part=1, now=NOW)

    done = _row(database, message_id)
    assert (done.state, done.parts_sent, done.attempts, done.sent_at) == (
        OutboxState.SENT,
        2,
        2,
        NOW,
    )


def test_defer_failed_and_ambiguous_record_the_attempt(database: Database):
    deferred, failed, doubtful = (_enqueue(database, chat_id=chat) for chat in (1, 2, 3))
    until = NOW + timedelta(seconds=30)
    with database.session() as session:
        outbox.claim_due_rows(session, now=NOW, limit=10)
        outbox.defer(session, message_id=deferred.id or 0, until=until, error="RetryAfter 30")
        outbox.mark_failed(session, message_id=failed.id or 0, error="BadRequest: chat not found")
        outbox.mark_ambiguous(session, message_id=doubtful.id or 0, error="TimedOut")

    assert (_row(database, deferred.id).state, _row(database, deferred.id).not_before) == (
        OutboxState.PENDING,
        until,
    )
    assert _row(database, failed.id).state == OutboxState.FAILED
    assert _row(database, doubtful.id).last_error == "part 1 may not have arrived: TimedOut"
    assert all(_row(database, r.id).attempts == 1 for r in (deferred, failed, doubtful))
    with database.session() as session:
        assert [r.id for r in outbox.ambiguous_messages(session)] == [doubtful.id]


@pytest.mark.parametrize(
    ("delivered", "parts_sent", "state"),
    [(True, 1, OutboxState.PENDING), (False, 0, OutboxState.PENDING)],
)
def test_resolve_ambiguous(database: Database, delivered: bool, parts_sent: int, state: str):
    row = _enqueue(database)
    with database.session() as session:
        outbox.claim_due_rows(session, now=NOW, limit=1)
        outbox.mark_ambiguous(session, message_id=row.id or 0, error="TimedOut")
        outbox.resolve_ambiguous(session, message_id=row.id or 0, delivered=delivered, now=NOW)
    resolved = _row(database, row.id)
    assert (resolved.parts_sent, resolved.state) == (parts_sent, state)


def test_resolving_the_last_part_as_delivered_finishes_the_row(database: Database):
    row = _enqueue(database, parts=[text_part("only")])
    with database.session() as session:
        outbox.claim_due_rows(session, now=NOW, limit=1)
        outbox.mark_ambiguous(session, message_id=row.id or 0, error="TimedOut")
        outbox.resolve_ambiguous(session, message_id=row.id or 0, delivered=True, now=NOW)
    assert _row(database, row.id).state == OutboxState.SENT


def test_fail_chat_fails_only_that_chats_unfinished_rows(database: Database):
    a1 = _enqueue(database, chat_id=1)
    a2 = _enqueue(database, chat_id=1, period="2026-W48")
    b = _enqueue(database, chat_id=2)
    with database.session() as session:
        assert outbox.fail_chat(session, chat_id=1, error="Forbidden") == 2
    assert [_row(database, r.id).state for r in (a1, a2, b)] == [
        OutboxState.FAILED,
        OutboxState.FAILED,
        OutboxState.PENDING,
    ]


def test_retarget_chat_moves_rows_and_never_creates_a_duplicate(database: Database):
    moving = _enqueue(database, chat_id=-1)
    clashing = _enqueue(database, chat_id=-1, period="2026-W48")
    _enqueue(database, chat_id=-1_009, period="2026-W48")
    with database.session() as session:
        moved = outbox.retarget_chat(session, old_chat_id=-1, new_chat_id=-1_009)
    assert moved == [moving.id]
    assert _row(database, moving.id).chat_id == -1_009
    assert _row(database, clashing.id).state == OutboxState.FAILED


# -- Keyed job runs -----------------------------------------------------------------------------


def test_a_keyed_run_runs_once_and_an_unfinished_one_resumes(database: Database):
    key = "weekly:2026-W47"
    with database.session() as session:
        assert run_once(session, key=key, now=NOW)
        assert run_once(session, key=key, now=NOW)  # the first process died: resumable
        assert not is_finished(session, key=key)
        finish_run(session, key=key, now=NOW)
        assert not run_once(session, key=key, now=NOW)
        assert is_finished(session, key=key)
        assert run_once(session, key="weekly:2026-W48", now=NOW)


# -- Splitting ----------------------------------------------------------------------------------


class _Balance(HTMLParser):
    """Checks that every tag opened in a part is closed in it, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ok = self.ok and bool(self.stack) and self.stack.pop() == tag


def _balanced(part: str) -> bool:
    checker = _Balance()
    checker.feed(part)
    checker.close()
    return checker.ok and not checker.stack


def test_short_text_is_one_part():
    assert split_text("<b>你好</b>") == ["<b>你好</b>"]
    assert split_text("") == []
    assert split_text("\n \n") == []


def test_splits_at_line_boundaries():
    lines = [f"第{n:03d}行" for n in range(100)]  # 6 characters each, 7 with the newline
    parts = split_text("\n".join(lines), limit=50)
    assert all(len(part) <= 50 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines


def test_an_overlong_line_is_cut_between_entities_never_inside():
    text = "&amp;" * 30
    parts = split_text(text, limit=22)
    assert all(len(part) <= 22 for part in parts)
    assert all(re.fullmatch(r"(&amp;)+", part) for part in parts)
    assert "".join(parts) == text


def test_tags_open_across_a_split_are_closed_and_reopened():
    text = '<b>标题</b>\n<a href="https://example.org/x">' + "链接文字" * 20 + "</a>\n尾"
    parts = split_text(text, limit=60)
    assert all(utf16_len(part) <= 60 for part in parts)
    assert all(_balanced(part) for part in parts)
    assert all(part.startswith('<a href="https://example.org/x">') for part in parts[1:-1])
    assert "".join(visible_text(part) for part in parts).replace("\n", "") == visible_text(
        text
    ).replace("\n", "")


def test_astral_characters_count_twice():
    parts = split_text("😀" * 10, limit=4)
    assert parts == ["😀😀"] * 5


_WORD = st.text(alphabet=st.sampled_from("社区居委abc 12😀"), min_size=0, max_size=30)
_TAGGED = st.builds(
    lambda tag, word: f"<{tag}>{word}</{tag}>" if tag else word,
    st.sampled_from(["", "b", "i", "code"]),
    _WORD,
)
_LINE = st.lists(st.one_of(_TAGGED, st.just("&lt;"), st.just("&amp;")), max_size=8).map("".join)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(_LINE, max_size=40), limit=st.integers(min_value=24, max_value=300))
def test_property_parts_fit_are_balanced_and_lose_no_line(lines: list[str], limit: int):
    text = "\n".join(lines)
    parts = split_text(text, limit=limit)

    assert all(utf16_len(part) <= limit for part in parts)
    assert all(_balanced(part) for part in parts)
    # Nothing visible is lost, nothing added (blank parts are dropped: compare sans spaces).
    shown = "".join(visible_text(part) for part in parts)
    assert _squeezed(shown) == _squeezed(visible_text(text))
    # A line that fits a part on its own is never cut: it appears whole in some part.
    for line in lines:
        if utf16_len(line) + 20 <= limit and visible_text(line).strip():
            assert any(line in part.split("\n") for part in parts)


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(alphabet="居民abc😀 ", max_size=60), max_size=60))
def test_property_plain_text_lines_survive_in_order(lines: list[str]):
    text = "\n".join(lines)
    parts = split_text(text, limit=64)
    kept = [line for line in lines if line.strip()]
    pieces = [piece for part in parts for piece in part.split("\n") if piece.strip()]
    assert "".join(pieces) == "".join(kept)
    assert all(utf16_len(part) <= 64 for part in parts)


def _squeezed(text: str) -> str:
    return re.sub(r"\s", "", text)
