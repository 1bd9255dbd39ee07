"""Kept reads sent to the driver (core.driver_reads): the rows, types, events, errors and
transaction of SQLAlchemy's own execution, without its execution layer."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Integer, bindparam, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.orm import aliased

from core.db import built_once
from core.db import session as db_session
from core.detainees.models import Detainee, LegalStatus, Sex
from core.driver_reads import is_kept, keep, send
from core.establishments.models import Establishment
from core.principals import SYSTEM, acting_as
from core.scoping import read_columns
from core.testing import sql_statements


def _typed() -> Any:
    """Columns of every kind the panels read: text, an enum kept as its value, a date, a UTC
    timestamp, a label, a scalar subquery, an aggregate with a literal, a LIMIT parameter."""
    other = aliased(Detainee)
    count = (
        select(func.count())
        .select_from(other)
        .where(other.establishment_id == Establishment.id)
        .scalar_subquery()
        .label("held_there")
    )
    return (
        select(
            Detainee.registration_number,
            Detainee.sex,
            Detainee.legal_status.label("status"),
            Detainee.birth_date,
            Detainee.admitted_at,
            Detainee.released_at,
            Establishment.code,
            count,
            func.coalesce(func.length(Detainee.national_id), 0).label("id_length"),
        )
        .join(Establishment, Establishment.id == Detainee.establishment_id)
        .where(Detainee.last_name == bindparam("last_name"))
        .order_by(Detainee.registration_number)
        .limit(bindparam("limit", type_=Integer))
    )


_KEPT_TYPED = keep(_typed())


@built_once
def _kept_in_list() -> Any:  # a caller's IN list: expanded on each execution, by SQLAlchemy
    return select(Detainee.registration_number).where(
        Detainee.id.in_(bindparam("ids", expanding=True))
    )


@pytest.fixture
def held(app: Any, factories: Any) -> list[str]:
    with app.app_context():
        dets = [
            factories.detainee("EST-A", last_name="Driver", first_name="Ali"),
            factories.detainee("EST-B", last_name="Driver", first_name="Omar"),
            factories.detainee("EST-A", last_name="Other"),
        ]
        return sorted(d.registration_number for d in dets[:2])


def _through_sqlalchemy_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The detainee reads SQLAlchemy's execution layer runs (a kept read must not go through
    it; what the scoping itself reads, a user's establishments, does)."""
    executed: list[Any] = []
    real = Connection._execute_context

    def counted(self: Any, *args: Any, **kw: Any) -> Any:
        if any("core_detainees.registration_number" in str(a) for a in args):
            executed.append(args)
        return real(self, *args, **kw)

    monkeypatch.setattr(Connection, "_execute_context", counted)
    return executed


def test_a_kept_read_gives_the_rows_sqlalchemy_gives(app: Any, held: list[str]) -> None:
    with app.app_context():
        conn = db_session().connection()
        params = {"last_name": "Driver", "limit": 10}
        by_driver = send(conn, _KEPT_TYPED, params).all()
        by_sqlalchemy = conn.execute(_typed(), params).all()
        assert [r.registration_number for r in by_driver] == held
        assert by_driver == by_sqlalchemy  # values, by position
        for fast, slow in zip(by_driver, by_sqlalchemy, strict=True):
            assert fast._fields == slow._fields
            assert fast._asdict() == slow._asdict()
            assert [type(v) for v in fast] == [type(v) for v in slow]
        row = by_driver[0]
        assert isinstance(row.sex, Sex) and isinstance(row.status, LegalStatus)  # processors
        assert isinstance(row.birth_date, dt.date)
        assert row.admitted_at.tzinfo is not None and row.admitted_at.utcoffset() == dt.timedelta(0)
        assert row.released_at is None
        assert row.code in ("EST-A", "EST-B") and row.held_there >= 1
        # by the column object too, as a compiled statement's row
        detainees, establishments = Detainee.__table__, Establishment.__table__
        assert row._mapping[detainees.c.registration_number] == held[0]
        assert row._mapping[establishments.c.code] == row.code
        assert by_sqlalchemy[0]._mapping[establishments.c.code] == row.code
        # the LIMIT is the caller's
        assert len(send(conn, _KEPT_TYPED, {**params, "limit": 1}).all()) == 1
        assert send(conn, _KEPT_TYPED, {**params, "last_name": "Nobody"}).first() is None
        assert send(conn, _KEPT_TYPED, params).scalars().all() == held


def test_a_kept_read_skips_sqlalchemys_execution_but_not_its_listeners(
    app: Any, held: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        conn = db_session().connection()
        executed = _through_sqlalchemy_only(monkeypatch)
        params = {"last_name": "Driver", "limit": 10}
        rows, seen = sql_statements(app, lambda: send(conn, _KEPT_TYPED, params).all())
        assert len(rows) == 2 and executed == []
        assert len(seen) == 1 and seen[0].startswith("SELECT core_detainees.registration_number")
        # a statement not kept goes through SQLAlchemy, as before
        rows, seen = sql_statements(app, lambda: send(conn, _typed(), params).all())
        assert len(rows) == 2 and len(executed) == 1 and len(seen) == 1


def test_a_kept_read_with_a_callers_in_list_is_sent_by_sqlalchemy(
    app: Any, held: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        conn = db_session().connection()
        ids = list(db_session().scalars(select(Detainee.id).where(Detainee.last_name == "Driver")))
        executed = _through_sqlalchemy_only(monkeypatch)
        assert is_kept(_kept_in_list())
        got = send(conn, _kept_in_list(), {"ids": ids}).scalars().all()
        assert sorted(got) == held and len(executed) == 1
        assert send(conn, _kept_in_list(), {"ids": ids[:1]}).scalars().all() != []
        assert len(executed) == 2


def test_a_scoped_kept_read_sends_the_establishments_as_parameters(
    app: Any, factories: Any, held: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scoping's IN list is part of the kept statement: expanded once, sent by the
    driver, and each set of establishments is its own statement."""
    with app.app_context():
        clerk_a = factories.user("registry_clerk", ("EST-A",))
        clerk_b = factories.user("registry_clerk", ("EST-B",))
        executed = _through_sqlalchemy_only(monkeypatch)
        params = {"last_name": "Driver", "limit": 10}
        with acting_as(clerk_a):
            (a_rows, seen) = sql_statements(app, lambda: read_columns(_KEPT_TYPED, params).all())
        with acting_as(clerk_b):
            b_rows = read_columns(_KEPT_TYPED, params).all()
        with acting_as(SYSTEM):
            all_rows = read_columns(_KEPT_TYPED, params).all()
        assert [r.code for r in a_rows] == ["EST-A"] and [r.code for r in b_rows] == ["EST-B"]
        assert sorted(r.registration_number for r in all_rows) == held
        assert executed == []
        assert "IN (" in seen[-1] and "POSTCOMPILE" not in seen[-1]


def test_a_driver_error_is_raised_as_sqlalchemy_raises_it(app: Any, held: list[str]) -> None:
    """Same exception class both ways (a wrapped DBAPI error on PostgreSQL), and the session
    can go on after a rollback."""
    with app.app_context():
        sess = db_session()
        huge = {"last_name": "Driver", "limit": 10**30}
        errors = []
        for stmt in (_KEPT_TYPED, _typed()):
            with pytest.raises(Exception) as caught:
                send(sess.connection(), stmt, huge).all()
            errors.append(type(caught.value))
            sess.rollback()
        assert errors[0] is errors[1]
        if app.extensions["idmaj.db"].engine.dialect.name == "postgresql":
            assert issubclass(errors[0], sa_exc.DBAPIError)
        rows = send(sess.connection(), _KEPT_TYPED, {"last_name": "Driver", "limit": 10}).all()
        assert len(rows) == 2


def test_a_kept_read_runs_in_the_sessions_transaction(app: Any, factories: Any) -> None:
    with app.app_context():
        sess = db_session()
        det = sess.get(Detainee, factories.detainee("EST-A", last_name="Kept").id)
        det.last_name = "Uncommitted"  # not flushed: read_columns flushes, as the session does
        rows = read_columns(_KEPT_TYPED, {"last_name": "Uncommitted", "limit": 5}).all()
        assert len(rows) == 1
        sess.rollback()
        assert read_columns(_KEPT_TYPED, {"last_name": "Uncommitted", "limit": 5}).all() == []


def test_built_once_keeps_what_it_builds() -> None:
    calls: list[int] = []

    @built_once
    def stmt(flag: bool) -> Any:
        calls.append(1)
        return select(Detainee.id).where(Detainee.id == bindparam("i")).limit(2 if flag else 1)

    assert stmt(True) is stmt(True) and stmt(False) is not stmt(True)
    assert is_kept(stmt(True)) and is_kept(stmt(False)) and len(calls) == 2
    assert not is_kept(select(Detainee.id))
