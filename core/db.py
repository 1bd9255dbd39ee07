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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

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
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


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
            sess.close()

    return database


def get_database(app: Flask | None = None) -> Database:
    return (app or current_app).extensions["idmaj.db"]


def session() -> Session:
    """The session of the current app context (created on first use, closed at teardown)."""
    sess: Session | None = g.get("db_session")
    if sess is None:
        sess = get_database().sessionmaker()
        g.db_session = sess
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
