"""The one place that creates database engines and sessions.

SQLite is the default: WAL mode (readers never block the writer), foreign keys on, and a busy
timeout so that concurrent writers wait instead of failing with "database is locked". pysqlite's
own transaction handling is switched off and we emit ``BEGIN IMMEDIATE`` ourselves: a deferred
transaction that reads and later writes fails with ``SQLITE_BUSY`` when another writer got there
first, while an immediate one waits for the lock up front. Long read-only work (scoring, exports)
uses :meth:`Database.read_session`, a deferred ``BEGIN``, so it never holds the write lock.
:meth:`Database.session_if_free` is for short work on the event loop: it takes the write lock
only if nobody holds it, without waiting. :meth:`Database.later` queues a small bookkeeping write
for the next write transaction. Below the class: the hot path's plain statements on the driver
(:func:`rows`, :func:`first`, :func:`execute`, :func:`insert_row`) and :func:`new_row`.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Column,
    Connection,
    Dialect,
    Engine,
    Table,
    TextClause,
    bindparam,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import configure_mappers
from sqlalchemy.orm.instrumentation import manager_of_class
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeEngine
from sqlmodel import Session, SQLModel, create_engine

BUSY_TIMEOUT_MS = 30_000
# The largest integer SQLite stores (a signed 64-bit INTEGER): binding a larger Python int
# raises OverflowError, so a number typed by a person is checked against it first.
MAX_SQL_INTEGER = 2**63 - 1


def whole_number(text: str) -> int | None:
    """``text`` as a whole number SQLite can store, or None. Not ``isdigit()``: ``"²"`` is a
    digit ``int()`` refuses; and thirty digits overflow SQLite's integers."""
    if not text.isdecimal():
        return None
    value = int(text)
    return value if value <= MAX_SQL_INTEGER else None


M = TypeVar("M", bound=SQLModel)
_Write = tuple[str, Mapping[str, Any]]
logger = logging.getLogger(__name__)
_DEFERRED = "govbot_deferred"
_NOWAIT = "govbot_nowait"
_QUICK = "govbot_quick"


def create_db_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the SQLite settings described above."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    in_memory = parsed.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {
        "connect_args": {"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    }
    if in_memory:
        # One shared connection, or every session would see its own empty database.
        kwargs["poolclass"] = StaticPool
    elif parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)
    _configure_sqlite(engine, wal=not in_memory)
    return engine


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if wal:
            cursor.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL is durable across a killed process, which is what DESIGN asks
            # ("a write the user was told succeeded survives a process kill"); only an OS crash
            # or power loss may lose the last commits. FULL fsyncs every commit, which measured
            # as half the demo's wall time.
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(_DEFERRED, False):
            conn.exec_driver_sql("BEGIN")
        elif options.get(_NOWAIT, False) or options.get(_QUICK, False):
            _begin_immediate(conn.connection.driver_connection, drop_timeout=_NOWAIT in options)
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_immediate(driver: sqlite3.Connection, *, drop_timeout: bool) -> None:
    """``BEGIN IMMEDIATE`` on the driver; with ``drop_timeout``, with the connection's busy
    timeout at 0 for it, so that it raises SQLITE_BUSY at once if another writer holds the lock
    (the quick connection's timeout is always 0)."""
    if not drop_timeout:
        driver.execute("BEGIN IMMEDIATE")
        return
    driver.execute("PRAGMA busy_timeout=0")
    try:
        driver.execute("BEGIN IMMEDIATE")
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class Database:
    """An engine with the kinds of session the bot needs, and the small writes that may wait
    for the next one (:meth:`later`)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_db_engine(url)
        self._read_engine = self.engine.execution_options(**{_DEFERRED: True})
        self._nowait_engine = self.engine.execution_options(**{_NOWAIT: True})
        self._later: list[_Write] = []
        self._later_lock = threading.Lock()
        # session_if_free's own connection, kept open for the thread that first asked (the
        # event loop's): see _take_quick.
        self._keeps_quick = self.engine.dialect.name == "sqlite" and not isinstance(
            self.engine.pool, StaticPool
        )
        self._quick: Connection | None = None
        # The quick connection's Session, closed and kept between uses: a closed Session is
        # as good as a new one (empty identity map, no transaction), and building one was a
        # third of a quick session's SQLAlchemy cost (docs/performance.md, "Seventh pass").
        self._quick_session: Session | None = None
        self._quick_thread: int | None = None
        self._quick_in_use = False
        self._quick_lock = threading.Lock()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction takes the write lock at its start (``BEGIN IMMEDIATE``).

        Storage functions commit what they change; anything left uncommitted when the block
        ends is rolled back. Writes waiting in :meth:`later` are committed first.
        """
        with Session(self.engine, expire_on_commit=False) as session:
            if self._later:
                self._write_queued(session, drop_timeout=False)
            yield session

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for long reads that never takes the write lock."""
        with Session(self._read_engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def session_if_free(self) -> Iterator[Session | None]:
        """A :meth:`session` whose write lock is taken now, or None if another writer holds it.

        Never waits for the lock, so short work can run on the event loop (see
        ``handlers.context.run_db_quick``). Other databases than SQLite always get a session.
        """
        quick = self._take_quick()
        try:
            if quick is None:
                session = Session(self._nowait_engine, expire_on_commit=False)
            else:
                session = self._quick_session or Session(quick, expire_on_commit=False)
                self._quick_session = None  # taken; given back below once closed cleanly
            with session:  # closing ends the transaction, committed or rolled back
                try:
                    session.connection()  # BEGIN IMMEDIATE, with no busy timeout
                    if self._later:
                        self._write_queued(session, drop_timeout=quick is None)
                except sqlite3.OperationalError as error:  # raw: the driver's, from the BEGINs
                    if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                        raise
                    yield None
                    return
                yield session
            if quick is not None and quick is self._quick:  # not disposed of meanwhile
                session.info.clear()
                self._quick_session = session
        finally:
            if quick is not None:
                self._quick_in_use = False

    def _take_quick(self) -> Connection | None:
        """The connection kept open for :meth:`session_if_free` in the thread that first asked
        (the event loop's), if it is free; None: use a pooled one.

        The event loop opens a quick session for nearly every message, and checking a pooled
        connection out and in again, with the busy timeout set to 0 and back around each
        ``BEGIN``, was about 40% of a quick session's cost (docs/performance.md). This
        connection's busy timeout is always 0, and its sessions end with their transaction
        (committed or rolled back), so it is always ready for the next. Other threads, and a
        second quick session opened while one is still open, use the pool as before.
        """
        if not self._keeps_quick:
            return None
        if self._quick is None:
            with self._quick_lock:
                if self._quick is None:
                    connection = self.engine.connect().execution_options(**{_QUICK: True})
                    driver = cast(sqlite3.Connection, connection.connection.driver_connection)
                    driver.execute("PRAGMA busy_timeout=0")
                    self._quick_thread = threading.get_ident()
                    self._quick = connection
        if self._quick_in_use or self._quick_thread != threading.get_ident():
            return None
        self._quick_in_use = True
        return self._quick

    # -- writes that wait for the next transaction ------------------------------------------

    def later(self, sql: str, params: Mapping[str, Any]) -> None:
        """Queue an ``UPDATE`` of bookkeeping for the next session of this database that takes
        the write lock, instead of a transaction of its own.

        For the message id of a reply or a card, known only once the bot's message is sent:
        a transaction costs several times the statement. That session commits the queued writes
        first, on their own (they neither depend on its work nor it on them), in the order they
        were queued. Until then a session reads the old value; the caller arranges for
        :meth:`write_later` to run soon and at shutdown. Only a killed process loses what is
        still queued, as it loses a reply not yet sent.
        """
        with self._later_lock:
            self._later.append((sql, params))

    def write_later(self) -> None:
        """Commit the queued writes now (a no-op if none wait)."""
        if self._later:
            with self.session():
                pass

    def _write_queued(self, session: Session, *, drop_timeout: bool) -> None:
        """Commit the queued writes in a transaction of their own, then begin the session's
        transaction again (the lock taken again as :func:`_begin_immediate` takes it: without
        waiting if the busy timeout is 0 or dropped, and the BEGIN raises SQLITE_BUSY then).

        The queue is taken once the write lock is held, so writes commit in the order they were
        queued. One that fails is logged and dropped: it is bookkeeping, and the session's own
        work must not fail for it.
        """
        driver = _driver(session)  # begins the transaction: the write lock is ours
        with self._later_lock:
            writes, self._later = self._later, []
        for sql, params in writes:
            try:
                execute(session, sql, params)
            except SQLAlchemyError:
                logger.exception("a queued bookkeeping write failed: %s %s", sql, params)
        if not driver:  # not SQLite: commit; the next statement begins anew, waiting as usual
            session.commit()
            return
        try:
            driver.execute("COMMIT")
        except sqlite3.Error:
            self._put_back(writes)
            raise
        # SQLAlchemy's transaction on this connection is still open: open the driver's again.
        _begin_immediate(driver, drop_timeout=drop_timeout)

    def _put_back(self, writes: list[_Write]) -> None:
        with self._later_lock:
            self._later[:0] = writes

    def dispose(self) -> None:
        self._quick_session = None
        if self._quick is not None:
            self._quick.close()
            self._quick = None
        self.engine.dispose()


# -- plain SQL on the hot path -----------------------------------------------------------------
#
# A statement through SQLAlchemy's ``Connection.execute`` costs about ten times what the same
# statement costs through the driver (parameters, result objects, events: ~0.15 ms against
# ~0.015 ms), and a logged message runs about ten. The few statements every message runs go
# straight to the sqlite3 connection under the session's transaction; any other database runs
# the same SQL through ``text()``. Values in and out go through the columns' own type
# processors, so what is stored and read back is what the ORM would store and read.

_DRIVER = "govbot_driver"


def _driver(session: Session) -> Any:
    """The sqlite3 connection under the session's current transaction (False: not SQLite)."""
    driver = session.info.get(_DRIVER)
    if driver is None:
        connection = session.connection()  # begins the transaction if none is open
        sqlite = connection.dialect.name == "sqlite"
        driver = connection.connection.driver_connection if sqlite else False
        session.info[_DRIVER] = driver
    return driver


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_driver(session: OrmSession, _transaction: Any) -> None:
    """The next transaction may run on another pooled connection, and must begin first."""
    session.info.pop(_DRIVER, None)


@event.listens_for(OrmSession, "after_transaction_create")
def _forget_driver_for_savepoint(session: OrmSession, transaction: Any) -> None:
    """A SAVEPOINT is emitted by the nested transaction's first ``session.connection()``:
    the next plain statement must ask for the connection again, or it would run outside it."""
    if transaction.nested:
        session.info.pop(_DRIVER, None)


def rows(session: Session, sql: str, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` (named ``:parameters``) in the session's transaction; all rows, as tuples."""
    driver = _driver(session)
    if driver:
        found: list[tuple[Any, ...]] = _on_driver(driver, sql, params).fetchall()
        return found
    return [tuple(row) for row in session.connection().execute(_text(sql), params)]


def first(session: Session, sql: str, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of ``sql``, or None."""
    driver = _driver(session)
    if driver:
        row: tuple[Any, ...] | None = _on_driver(driver, sql, params).fetchone()
        return row
    found = session.connection().execute(_text(sql), params).first()
    return tuple(found) if found is not None else None


def execute(session: Session, sql: str, params: Mapping[str, Any]) -> int:
    """Run a statement that returns no rows (an UPDATE); how many rows it changed."""
    driver = _driver(session)
    if driver:
        return int(_on_driver(driver, sql, params).rowcount)
    return int(session.connection().execute(_text(sql), params).rowcount)


def _on_driver(driver: sqlite3.Connection, sql: str, params: Any) -> sqlite3.Cursor:
    """Execute on the driver; its errors become SQLAlchemy's (``IntegrityError``…), as the
    callers expect from any other statement."""
    try:
        return driver.execute(sql, params)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, params, error, sqlite3.Error) from error


def driver_value(session: Session, type_: TypeEngine[Any], value: Any) -> Any:
    """``value`` as the driver takes it for a column of ``type_`` (its bind processor), for a
    parameter of :func:`rows` / :func:`first` / :func:`execute` that is not a plain int or str."""
    process = _bind_processor(type_, session.get_bind().dialect)
    return process(value) if process is not None else value


@cache
def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    process: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return process


@cache
def _text(sql: str) -> TextClause:
    return text(sql)


def insert_row(session: Session, row: SQLModel) -> int:
    """INSERT one new table-model object and set its ``id``, without the ORM's unit of work.

    For the hot path (a report, a logged activity): an ORM flush of the same row costs several
    times the CPU. The object is not added to the session; it is a snapshot of the row
    as stored (every column is written from it through the column type's processor, as a flush
    would write it).
    """
    table: Table = row.__table__  # type: ignore[attr-defined]
    state = row.__dict__  # the values, read and the id set in place, as new_row puts them
    driver = _driver(session)
    if driver:
        sql, keys, processors = _insert(table, session.get_bind().dialect)
        values = [state.get(key) for key in keys]
        for index, process in processors:
            values[index] = process(values[index])
        new_id = int(_on_driver(driver, sql, values).lastrowid or 0)
    else:
        statement = _insert_text(table)
        values_by_key = {c.key: state.get(c.key) for c in _value_columns(table)}
        new_id = int(session.connection().execute(statement, values_by_key).scalar_one())
    state["id"] = new_id
    return new_id


def new_row(model: type[M], **values: Any) -> M:
    """``model(**values)`` for a table model, built as SQLAlchemy builds a row it loads: the
    defaults filled in and every value put in place at once, not assigned column by column
    through SQLModel's and SQLAlchemy's attribute hooks (~8 µs for an activity against ~110 µs).

    The object is the same (same values, same ``model_dump``, same set fields, transient
    until added to a session); table models are not validated by their constructor either.
    For the rows every message writes (``insert_row``) and reads (``member_snapshot``).
    """
    manager, fields = _layout(model)
    unknown = values.keys() - fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {sorted(unknown)}")
    row = manager.new_instance()
    state = row.__dict__
    for name in fields:  # the given values, then the defaults, as the constructor orders them
        if name in values:
            state[name] = values[name]
    for name, field in fields.items():
        if name not in values and not field.is_required():  # a required one stays unset
            state[name] = field.get_default(call_default_factory=True)
    object.__setattr__(row, "__pydantic_fields_set__", set(values))  # as SQLModel's __new__
    return row


@cache
def _layout(model: type[SQLModel]) -> tuple[Any, dict[str, Any]]:
    """The model's class manager and fields. Configuring the mappers first, as a constructor's
    first call does, gives the attributes their implementations."""
    configure_mappers()
    return manager_of_class(model), dict(model.model_fields)


@cache
def row_reader(
    columns: tuple[Column[Any], ...], dialect: Dialect
) -> Callable[[Sequence[Any]], dict[str, Any]]:
    """Turn a driver row of ``columns`` into ``{key: value}`` as the ORM would read it (one
    reader per columns and dialect)."""
    processors = [
        (c.key, c.type.dialect_impl(dialect).result_processor(dialect, None)) for c in columns
    ]

    def read(row: Sequence[Any]) -> dict[str, Any]:
        return {
            key: process(value) if process is not None else value
            for (key, process), value in zip(processors, row, strict=True)
        }

    return read


def _value_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if not c.primary_key]


@cache
def _insert(
    table: Table, dialect: Dialect
) -> tuple[str, tuple[str, ...], tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """``INSERT`` with ``?`` placeholders, its attribute keys, and the bind processors."""
    columns = _value_columns(table)
    names = ", ".join(c.name for c in columns)
    marks = ", ".join("?" for _ in columns)
    processors = tuple(
        (index, process)
        for index, column in enumerate(columns)
        if (process := _bind_processor(column.type, dialect)) is not None
    )
    sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
    return sql, tuple(c.key for c in columns), processors


@cache
def _insert_text(table: Table) -> TextClause:
    """``INSERT … RETURNING id`` as text with typed parameters (databases other than SQLite)."""
    columns = _value_columns(table)
    names = ", ".join(c.name for c in columns)
    params = ", ".join(f":{c.key}" for c in columns)
    statement = text(f"INSERT INTO {table.name} ({names}) VALUES ({params}) RETURNING id")
    return statement.bindparams(*(bindparam(c.key, type_=c.type) for c in columns))
