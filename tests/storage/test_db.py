"""Sessions: the quick one never waits for another writer's lock, and leaves no trace."""

from __future__ import annotations

import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from storage import db
from storage.db import BUSY_TIMEOUT_MS, Database
from storage.tables import Member
from tests.conftest import START


def _other_writer(database: Database) -> sqlite3.Connection:
    """A second process's connection holding SQLite's write lock."""
    path = database.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_free_database_gives_a_session_holding_the_write_lock(database: Database) -> None:
    with database.session_if_free() as session:
        assert session is not None
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
        session.execute(text("INSERT INTO probe VALUES (1)"))
        session.commit()
    with database.read_session() as session:
        assert session.execute(text("SELECT x FROM probe")).scalar_one() == 1


def test_another_writer_means_no_session_at_once_and_nothing_written(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ordinary sessions of this engine would wait an hour for the lock; the quick one must not
    # wait at all. (The watchdog only catches a hang; it measures nothing.)
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 3_600_000)
    patient = Database(database.url)
    other = _other_writer(database)

    def attempt() -> bool:
        with patient.session_if_free() as session:
            return session is None

    pool = ThreadPoolExecutor(1)
    try:
        assert pool.submit(attempt).result(timeout=60)
    finally:
        other.execute("CREATE TABLE written_by_the_other (x INTEGER)")
        other.execute("COMMIT")
        other.close()
        pool.shutdown()
        patient.dispose()
    with database.session_if_free() as session:
        assert session is not None
        tables = session.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert "written_by_the_other" in tables


def test_the_connection_goes_back_to_the_pool_waiting_as_usual(database: Database) -> None:
    """The quick session drops the busy timeout only for its BEGIN: ordinary sessions on the
    same pooled connection still wait for a writer instead of failing at once."""
    other = _other_writer(database)
    with database.session_if_free() as session:
        assert session is None
    other.execute("ROLLBACK")
    other.close()
    for _ in range(2):  # after a refusal and after a success
        with database.session_if_free() as session:
            assert session is not None
        with database.session() as session:
            timeout = session.execute(text("PRAGMA busy_timeout")).scalar_one()
        assert timeout == BUSY_TIMEOUT_MS


def _probe(database: Database) -> list[int]:
    """What another connection sees committed."""
    path = database.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as other:
        return [x for (x,) in other.execute("SELECT x FROM probe ORDER BY x")]


def _probe_table(database: Database) -> None:
    with database.session() as session:
        session.execute(text("CREATE TABLE probe (x INTEGER)"))
        session.execute(text("INSERT INTO probe VALUES (1), (2)"))
        session.commit()


def test_a_write_for_later_goes_with_the_next_transaction(database: Database) -> None:
    _probe_table(database)
    database.later("UPDATE probe SET x = :new WHERE x = :old", {"new": 10, "old": 1})
    assert _probe(database) == [1, 2]  # queued, not written
    with database.session_if_free() as session:
        assert session is not None
        session.execute(text("UPDATE probe SET x = 20 WHERE x = 2"))
        session.commit()
    assert _probe(database) == [10, 20]
    database.write_later()  # nothing waits: no transaction
    assert _probe(database) == [10, 20]


def test_a_write_for_later_commits_on_its_own_whatever_the_session_then_does(
    database: Database,
) -> None:
    _probe_table(database)
    database.later("UPDATE probe SET x = :new WHERE x = :old", {"new": 10, "old": 1})

    def refused() -> None:
        with database.session() as session:
            session.execute(text("UPDATE probe SET x = 20 WHERE x = 2"))
            raise RuntimeError("a refusal after the first write")  # the session rolls back

    with pytest.raises(RuntimeError):
        refused()
    assert _probe(database) == [2, 10]  # the queued write stayed, the session's own did not
    with database.session() as session:  # nothing queued: the session is as before
        session.execute(text("UPDATE probe SET x = 30 WHERE x = 2"))
        session.rollback()
    assert _probe(database) == [2, 10]


def test_writes_for_later_commit_in_the_order_queued_and_a_failing_one_is_dropped(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    _probe_table(database)
    for new in (5, 6, 7):  # e.g. a reply's id, then the id of a newer reply to the same message
        database.later("UPDATE probe SET x = :new WHERE x < 10", {"new": new})
    database.later("UPDATE no_such_table SET x = 1", {})
    with database.session_if_free() as session:
        assert session is not None
        session.execute(text("INSERT INTO probe VALUES (3)"))  # the session's own work goes on
        session.commit()
    assert _probe(database) == [3, 7, 7]
    assert "a queued bookkeeping write failed" in caplog.text
    database.write_later()  # nothing left
    assert _probe(database) == [3, 7, 7]


def _connection_of(session: object) -> int:
    """Which sqlite3 connection the session's transaction runs on."""
    return id(db._driver(session))  # type: ignore[arg-type]


def test_the_loops_quick_sessions_share_one_connection_that_never_waits(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One connection serves the quick sessions of the thread that opened the first, with its
    busy timeout at 0 for good, also after committing queued writes (which restore the timeout
    of a pooled connection); ordinary sessions still wait as usual."""
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 3_600_000)  # a wait would hang: the pool's guard
    _probe_table(database)
    database.later("UPDATE probe SET x = :new WHERE x = :old", {"new": 10, "old": 1})
    seen = set()
    for _ in range(3):
        with database.session_if_free() as session:
            assert session is not None
            seen.add(_connection_of(session))
            assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 0
    assert len(seen) == 1
    assert _probe(database) == [2, 10]
    other = _other_writer(database)
    with database.session_if_free() as session:  # on that connection: refused, not waiting
        assert session is None
    other.execute("ROLLBACK")
    other.close()
    with database.session() as session:
        assert session.execute(text("PRAGMA busy_timeout")).scalar_one() == 3_600_000
        assert _connection_of(session) not in seen


def test_a_quick_session_that_fails_leaves_its_connection_ready_and_unchanged(
    database: Database,
) -> None:
    _probe_table(database)

    def refused() -> None:
        with database.session_if_free() as session:
            assert session is not None
            session.execute(text("UPDATE probe SET x = 30 WHERE x = 2"))
            raise RuntimeError("a refusal after the first write")

    with pytest.raises(RuntimeError):
        refused()
    with database.session_if_free() as session:
        assert session is not None
        session.execute(text("INSERT INTO probe VALUES (3)"))
        session.commit()
    assert _probe(database) == [1, 2, 3]


def test_a_quick_session_inside_another_or_on_another_thread_gets_its_own_connection(
    database: Database,
) -> None:
    _probe_table(database)
    with database.session_if_free() as outer:
        assert outer is not None
        mine = _connection_of(outer)
        outer.commit()  # the write lock is free again, the quick connection still taken

        def quick_elsewhere() -> int:
            with database.session_if_free() as session:
                assert session is not None
                session.execute(text("INSERT INTO probe VALUES (4)"))
                session.commit()
                return _connection_of(session)

        assert quick_elsewhere() != mine
    with ThreadPoolExecutor(1) as pool:  # the loop's connection is free, but not this thread's
        assert pool.submit(quick_elsewhere).result(timeout=60) != mine
    assert quick_elsewhere() == mine
    assert _probe(database) == [1, 2, 4, 4, 4]


def test_each_quick_session_starts_empty_though_the_loops_session_is_kept(
    database: Database,
) -> None:
    """The loop's quick sessions reuse one closed Session: what one use loaded or noted is
    gone in the next, and after a failed use a new Session takes over."""
    with database.session_if_free() as first_use:
        assert first_use is not None
        member = Member(telegram_user_id=77, name="王阿姨", language="zh", created_at=START)
        first_use.add(member)
        first_use.commit()
        first_use.info["noted"] = True
        assert member in first_use
    with database.session_if_free() as second_use:
        assert second_use is first_use
        assert member not in second_use
        assert second_use.info == {}
        assert second_use.in_transaction()
        assert second_use.get(Member, member.id) is not member  # read again, not remembered

    def failing_use() -> None:
        with database.session_if_free() as session:
            assert session is first_use
            session.add(
                Member(telegram_user_id=78, name="李师傅", language="zh", created_at=START)
            )
            session.flush()
            raise RuntimeError("a refusal after the flush")

    with pytest.raises(RuntimeError):
        failing_use()
    with database.session_if_free() as after_failure:
        assert after_failure is not None
        assert after_failure is not first_use
        users = after_failure.execute(text("SELECT telegram_user_id FROM member")).scalars()
        assert list(users) == [77]


def test_a_quick_session_open_while_the_database_is_disposed_of_is_not_kept(
    database: Database,
) -> None:
    with database.session_if_free() as session:
        assert session is not None
        database.dispose()  # shutting down while a message's work is still open
    with database.session_if_free() as after:
        assert after is not None
        assert after.execute(text("SELECT count(*) FROM member")).scalar_one() == 0
