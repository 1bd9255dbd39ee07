"""How a request's transaction ends (core.db): a read-only one commits on PostgreSQL, so that
psycopg keeps the connection's prepared statements; anything that wrote is rolled back unless
the view committed; a pooled connection idle for a while is pinged before it is lent again."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from core import db
from core.db import session
from core.establishments.models import Establishment, EstablishmentKind


def _dbapi(conn: Any) -> Any:
    return conn.connection.dbapi_connection


def test_a_written_transaction_the_view_did_not_commit_is_rolled_back(
    make_app: Any, _session_app: Any
) -> None:
    app = make_app()
    with app.app_context():
        session().execute(text("CREATE TEMP TABLE request_end_probe (x integer)"))
        session().execute(text("INSERT INTO request_end_probe VALUES (1)"))
    with app.app_context():
        found = (
            session()
            .execute(
                text("SELECT count(*) FROM sqlite_temp_master WHERE name = 'request_end_probe'")
                if db.get_database(app).dialect == "sqlite"
                else text("SELECT to_regclass('pg_temp.request_end_probe') IS NOT NULL")
            )
            .scalar()
        )
    assert not found


def test_objects_added_but_never_flushed_are_not_kept(make_app: Any, _session_app: Any) -> None:
    app = make_app()
    code = "ZZ-UNFLUSHED"
    try:
        with app.app_context():
            session().add(
                Establishment(
                    code=code, name_fr="x", name_ar="x", kind=EstablishmentKind.local_prison
                )
            )
        with app.app_context():
            count = session().scalar(
                select(func.count()).select_from(Establishment).where(Establishment.code == code)
            )
        assert count == 0
    finally:
        with app.app_context():
            session().execute(Establishment.__table__.delete().where(Establishment.code == code))
            session().commit()


@pytest.mark.postgresql
def test_a_read_only_request_keeps_the_connection_prepared_statements(
    make_app: Any, _session_app: Any
) -> None:
    app = make_app()
    with app.app_context():
        conn = session().connection()
        first = _dbapi(conn)
        for _ in range(first.prepare_threshold + 1):
            session().execute(select(Establishment.id).where(Establishment.code == "EST-A"))
        assert first._prepared._names, "psycopg prepared the repeated statement"
    with app.app_context():
        second = _dbapi(session().connection())
        assert second is first
        assert second._prepared._names, "a ROLLBACK at the end would have dropped them"


@pytest.mark.postgresql
def test_a_dead_connection_idle_in_the_pool_is_replaced(
    make_app: Any, _session_app: Any, monkeypatch: pytest.MonkeyPatch, db_url: str
) -> None:
    app = make_app()
    with app.app_context():
        pid = session().execute(text("SELECT pg_backend_pid()")).scalar()
    killer = create_engine(db_url)
    with killer.begin() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    killer.dispose()
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)
    with app.app_context():
        assert session().execute(text("SELECT pg_backend_pid()")).scalar() != pid


def test_the_context_session_is_one_per_app_context_and_none_outside(app: Any) -> None:
    """``core.db.session()`` reads the app context directly (not through ``g``'s proxy): the
    same session all through a context, kept in ``g``, a new one in the next context, and the
    usual error outside any."""
    import pytest
    from flask import g

    from core.db import session
    from core.principals import current_principal

    with app.test_request_context("/"):
        first = session()
        assert session() is first and g.db_session is first
        assert current_principal() is None  # nobody signed in
    with app.app_context():
        assert session() is not first
    with pytest.raises(RuntimeError, match="application context"):
        session()
