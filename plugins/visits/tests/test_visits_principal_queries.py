"""The booking API reads its principal once: the bearer token's one statement (token, account
state and stamps), then the process's snapshot (core/identity/principal_cache.py) — the
"linked to this detainee" check and the ban check use that principal and load no user."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.testing import sql_statements

IDENTITY_TABLES = re.compile(
    r"^(core_users|core_user_roles|core_user_establishments|core_role_permissions|core_roles"
    r"|core_api_tokens|core_principal_epoch)\b"
)


def _main_table(statement: str) -> str:
    """What a SELECT reads FROM at its top level (not in a sub-select)."""
    depth = 0
    for i, char in enumerate(statement):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth == 0 and statement.startswith(" FROM ", i):
            return statement[i + 6 :]
    return ""


def _identity_read(statement: str) -> bool:
    """A statement reading identity tables as its main table (the ban check's own query joins
    the banned account and reads its national id in a sub-select: a statement on visits_bans)."""
    return statement.startswith("SELECT") and bool(IDENTITY_TABLES.match(_main_table(statement)))


def _booking_statements(app: Any, client: Any, world: Any, api_headers: Any) -> list[str]:
    """The SQL of one booking through the API, the family's principal already known to the
    process (a first request made before)."""
    family = api_headers(world.visitor)
    assert client.get("/api/v1/visitors/me/bookings", headers=family).status_code == 200
    body = {"slot_id": world.slot_id, "detainee": world.rn}
    resp, seen = sql_statements(
        app, lambda: client.post("/api/v1/visits/bookings", json=body, headers=family)
    )
    assert resp.status_code == 201, resp.json
    return seen


def test_a_booking_reads_its_identity_with_one_statement(app, client, world, api_headers):
    seen = _booking_statements(app, client, world, api_headers)
    reads = [s for s in seen if _identity_read(s)]
    assert len(reads) == 1, reads
    assert "core_api_tokens" in reads[0] and "core_principal_epoch" in reads[0]


def test_a_booking_finds_and_locks_the_detainee_with_one_statement(app, client, world, api_headers):
    """The family's link and the detainee's row lock (the first step of the lock order) are
    one statement: ``SELECT … JOIN visits_relations … FOR UPDATE OF core_detainees`` on
    PostgreSQL (SQLite's transactions hold the database's write lock and render no FOR
    UPDATE), not a read followed by a locking re-read."""
    seen = _booking_statements(app, client, world, api_headers)
    detainee_reads = [
        s for s in seen if s.startswith("SELECT") and _main_table(s).startswith("core_detainees")
    ]
    assert len(detainee_reads) == 1, detainee_reads
    assert "visits_relations" in detainee_reads[0]
    if app.extensions["idmaj.db"].engine.dialect.name == "postgresql":
        assert detainee_reads[0].rstrip().endswith("FOR UPDATE OF core_detainees")


def test_the_duplicate_check_names_the_live_statuses_in_its_sql(app, client, world, api_headers):
    """ "Already booked?" reads the partial unique index (slot, detainee) WHERE status IN
    ('confirmed', 'checked_in'): the statuses are written into the statement (sent as
    parameters, PostgreSQL's generic plan for the prepared statement cannot use that index)."""
    seen = _booking_statements(app, client, world, api_headers)
    (check,) = [s for s in seen if s.startswith("SELECT visits_bookings.id")]
    assert "visits_bookings.status IN ('confirmed', 'checked_in')" in check


@pytest.mark.postgresql
def test_the_duplicate_check_s_generic_plan_uses_the_partial_unique_index(
    app, client, world, api_headers
) -> None:
    """The plan PostgreSQL keeps for the prepared statement after five executions (forced
    here) reads one index entry, not every live booking of a busy slot."""
    from sqlalchemy import text

    from core.db import session

    seen = _booking_statements(app, client, world, api_headers)
    (check,) = [s for s in seen if s.startswith("SELECT visits_bookings.id")]
    numbered = {"slot_id": "$1", "detainee_id": "$2"}
    sql = re.sub(r"%\((\w+)\)s", lambda m: numbered[m.group(1)], check)
    with app.app_context():
        sess = session()
        conn = sess.connection()
        conn.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
        conn.exec_driver_sql(f"PREPARE dup_check(int, int) AS {sql}")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN EXECUTE dup_check(1, 2)"))
        sess.rollback()
    assert "uq_visits_bookings_live_slot_detainee" in plan, plan
