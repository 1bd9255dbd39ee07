"""Database plumbing: the shared metadata, typed base class, engines and the request session.

One :class:`sqlalchemy.MetaData` with a naming convention serves the core and every plugin, so
constraints get the same names on SQLite and PostgreSQL and migrations stay stable.

Each Flask app owns one :class:`Database` (``app.extensions["idmaj.db"]``); code running in a
request or an app context calls :func:`session` to get the unit of work of that context. Services
never commit: the view, API handler or CLI command that owns the request commits once, so one
request is one transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, current_app, g
from flask.globals import _cv_app
from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, create_engine, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator

from core.driver_reads import keep
from core.files import private_file, sqlite_file

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# A 64-bit key on PostgreSQL that stays SQLite's INTEGER PRIMARY KEY (rowid alias) there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC).

    Naive datetimes are refused: every time in Idmaj is explicit about its zone.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def value_enum(enum_class: type[enum.Enum], length: int, *, check: str | None = None) -> Enum:
    """A string column holding an enum's *values* (not its member names), checked on write.

    With ``check`` (a short name such as ``"status"``) the database refuses any other value as
    well: a CHECK constraint named by the naming convention, ``ck_<table>_<check>``.
    """
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
        create_constraint=check is not None,
        name=check,
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


_S = TypeVar("_S")


def built_once(build: Callable[[], _S]) -> Callable[[], _S]:
    """A hot read's statement, built on first use and kept for the process.

    ``build`` takes no argument (or a few hashable ones: one statement kept per variant) and
    returns a statement whose values are named parameters (``bindparam("detainee_id")``); the
    caller passes them when executing::

        @built_once
        def _transfers_of() -> Select[tuple[Transfer]]:
            return select(Transfer).where(Transfer.detainee_id == bindparam("detainee_id"))

        db_session().scalars(_transfers_of(), {"detainee_id": det.id})

    Building a ``select()`` with its joins, options and ordering, then computing its cache
    key, costs about as much again as running it through the ORM (0.71 against 0.37 ms for
    the transfers panel's read, ``docs/performance.md``); a kept statement keeps its cache
    key too. What varies from one call to the next must be a parameter, never a Python value
    baked into the statement (the first caller's would be kept); a statement whose shape
    varies (optional filters, a scope) is built per call as usual. The query layer's scoping
    (``core.scoping``) still applies at execution. A kept ``SELECT`` read through
    :func:`core.scoping.read_columns` is compiled once too and sent to the driver
    (:mod:`core.driver_reads`)."""

    def build_and_keep(*args: Any) -> _S:
        return keep(build(*args))  # type: ignore[no-any-return]

    return functools.cache(functools.update_wrapper(build_and_keep, build))


@functools.cache
def _column_pairs(mapper: Any) -> list[tuple[str, str]]:
    """The (attribute, column) pairs of a mapped class's columns."""
    return [(prop.key, prop.columns[0].key) for prop in mapper.column_attrs]


def _values(state: Any) -> dict[str, Any]:
    """The column values an instance has set, by column (what an INSERT of it sends)."""
    loaded = state.dict
    return {column: loaded[key] for key, column in _column_pairs(state.mapper) if key in loaded}


@functools.cache
def _plain_insert(mapper: Any) -> tuple[Any, str]:
    """The INSERT … RETURNING id of a mapped class, and the attribute of its primary key."""
    (pk,) = mapper.primary_key
    stmt = mapper.local_table.insert().returning(pk, sort_by_parameter_order=True)
    return stmt, mapper.get_property_by_column(pk).key


def insert_plain(sess: Session, objects: list[Any]) -> None:
    """Write new instances of ONE mapped class with a single Core ``INSERT … RETURNING``, not
    through the session's unit of work, and give each its id.

    For rows written once and never changed by the request that writes them (an outbox
    message, an audit event): a flush of the unit of work for such a row cost about as much
    as the statement itself. The instances stay outside the session (transient, their id
    set); every instance must set the same attributes (one ``executemany``). Column defaults
    apply as for any insert; relationships are not written."""
    if not objects:
        return
    stmt, pk_key = _plain_insert(sa_inspect(objects[0]).mapper)
    rows = [_values(sa_inspect(obj)) for obj in objects]
    ids = sess.connection().execute(stmt, rows).scalars().all()
    for obj, new_id in zip(objects, ids, strict=True):
        set_committed_value(obj, pk_key, new_id)


@functools.cache
def _loaded_insert(mapper: Any, dialect: str, unless_duplicate: bool) -> Any:
    """The INSERT … RETURNING every column of a mapped class (``ON CONFLICT DO NOTHING`` when
    ``unless_duplicate``), built once per class and dialect."""
    table = mapper.local_table
    if not unless_duplicate:
        stmt = table.insert()
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stmt = pg_insert(table).on_conflict_do_nothing()
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        stmt = sqlite_insert(table).on_conflict_do_nothing()
    return stmt.returning(*table.columns)


def insert_loaded(sess: Session, obj: Any, *, unless_duplicate: bool = False) -> bool:
    """Write ONE new instance with a Core ``INSERT … RETURNING`` every column, then put it in
    the session as if it had just been read: persistent, nothing pending, every column as the
    database holds it (defaults included). A later change of it flushes as usual.

    For a hot write whose flush through the unit of work cost more than its statement (a
    booking). ``unless_duplicate``: a row that would break a unique constraint or index is
    not written (``ON CONFLICT DO NOTHING``): ``False`` is returned, no error, and the
    transaction goes on (no savepoint to pay for). Relationships are not written: the caller
    writes children itself and sets the collection (``set_committed_value``)."""
    state = sa_inspect(obj)
    stmt = _loaded_insert(state.mapper, sess.get_bind().dialect.name, unless_duplicate)
    row = sess.connection().execute(stmt, _values(state)).one_or_none()
    if row is None:
        return False
    stored = row._mapping
    for key, column in _column_pairs(state.mapper):
        set_committed_value(obj, key, stored[column])
    make_transient_to_detached(obj)
    sess.add(obj)
    return True


class Base(DeclarativeBase):
    """Typed declarative base shared by the core and all plugins."""

    metadata = metadata


def _configure_sqlite(engine: Engine) -> None:
    """Real transactions on SQLite: WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``.

    Python's sqlite3 driver opens transactions lazily and never for reads; we take over
    (``isolation_level=None``) and start every transaction with ``BEGIN IMMEDIATE``. Writers
    therefore queue on the busy timeout instead of failing with "database is locked" when a
    read-then-write transaction tries to upgrade its lock, and counters updated with a
    conditional ``UPDATE`` stay exact under concurrency.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        engine = create_engine(url, **kwargs)
        database = sqlite_file(engine.url.database)
        if database is not None and "mode=memory" not in url:
            # created 0600 before SQLite opens it; its -wal and -shm files take the same mode
            private_file(database)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **kwargs)
    _ping_after_idle(engine)
    _track_writes(engine)
    return engine


#: a pooled PostgreSQL connection idle for longer than this is pinged before it is lent again
PING_AFTER_IDLE_SECONDS = 10.0
_CHECKED_IN = "idmaj.checked_in"
_WROTE = "idmaj.wrote"
# statements that change nothing a COMMIT would keep (a SELECT … FOR UPDATE only locks)
_READ_ONLY = ("SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK", "SET ", "SHOW")


def _ping_after_idle(engine: Engine) -> None:
    """Ping a connection before lending it only when it sat idle in the pool.

    ``pool_pre_ping`` pings on every checkout: one round trip per request for a connection
    used a millisecond ago. A connection that waited longer than
    :data:`PING_AFTER_IDLE_SECONDS` (a database restart, a firewall's idle timeout) is pinged
    and replaced if dead; a busy one is not. If the server restarts under load, one request per
    worker meets the dead connection and fails, and SQLAlchemy then renews the whole pool.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the pool retries with a new connection
            raise DisconnectionError(str(exc)) from exc


def _track_writes(engine: Engine) -> None:
    """Mark a connection's transaction as written to when any statement but a read runs."""

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.info.pop(_WROTE, None)

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(
        conn: Any, _cursor: Any, statement: str, _params: Any, _ctx: Any, _many: bool
    ) -> None:
        if not statement.lstrip()[:9].upper().startswith(_READ_ONLY):
            conn.info[_WROTE] = True


def _end_read_only(sess: Session) -> None:
    """End a request's transaction that only read with COMMIT rather than ROLLBACK.

    Both end a read-only transaction the same way for the data, but psycopg forgets every
    prepared statement of the connection at a ROLLBACK, so PostgreSQL would plan the next
    request's statements again. A transaction that wrote anything, or holds changes not yet
    flushed, is rolled back as before: only what a view committed is ever kept.
    """
    if not sess.in_transaction() or sess.new or sess.dirty or sess.deleted:
        return
    if not isinstance(sess.bind, Engine):  # joined to an outer transaction (tests): not ours
        return
    conn = sess.connection()
    if conn.info.get(_WROTE) or conn.dialect.name != "postgresql":
        return
    dbapi_conn: Any = conn.connection.dbapi_connection
    if dbapi_conn.info.transaction_status.name == "INTRANS":  # not after a failed statement
        dbapi_conn.commit()


class Database:
    """The engine and session factory of one app."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessionmaker: sessionmaker[Session] = sessionmaker(
            bind=self.engine, expire_on_commit=False, autoflush=True
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app: Flask) -> Database:
    from core import scoping

    database = Database(app.config["DATABASE_URL"])
    scoping.install(database.sessionmaker)
    app.extensions["idmaj.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        sess: Session | None = g.pop("db_session", None)
        if sess is not None:
            try:
                if _exc is None:
                    _end_read_only(sess)
            except Exception:  # a broken connection: closing below rolls back and discards it
                pass
            finally:
                sess.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["idmaj.db"]


def session() -> Session:
    """The session of the current app context (created on first use, closed at teardown).

    Read from the app context itself, not through ``flask.g``'s proxy: a request asks for
    its session a dozen times or more."""
    ctx = _cv_app.get(None)
    store = ctx.g if ctx is not None else g  # outside a context, ``g`` says so as before
    sess: Session | None = store.get("db_session")
    if sess is None:
        sess = get_database().sessionmaker()
        store.db_session = sess
    return sess


@contextmanager
def transaction() -> Iterator[Session]:
    """Run a block as one transaction on the context's session: commit, or roll back on error."""
    sess = session()
    try:
        yield sess
        sess.commit()
    except BaseException:
        sess.rollback()
        raise


__all__ = [
    "Base",
    "BigId",
    "Database",
    "UTCDateTime",
    "get_database",
    "init_app",
    "metadata",
    "session",
    "transaction",
    "utcnow",
    "value_enum",
]
