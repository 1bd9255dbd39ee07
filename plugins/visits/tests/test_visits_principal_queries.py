"""The booking API reads its principal once: the bearer token's one statement (token, account
state and stamps), then the process's snapshot (core/identity/principal_cache.py) — the
"linked to this detainee" check and the ban check use that principal and load no user."""

from __future__ import annotations

import re

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


def test_a_booking_reads_its_identity_with_one_statement(app, client, world, api_headers):
    family = api_headers(world.visitor)
    assert client.get("/api/v1/visitors/me/bookings", headers=family).status_code == 200
    body = {"slot_id": world.slot_id, "detainee": world.rn}
    resp, seen = sql_statements(
        app, lambda: client.post("/api/v1/visits/bookings", json=body, headers=family)
    )
    assert resp.status_code == 201, resp.json
    reads = [s for s in seen if _identity_read(s)]
    assert len(reads) == 1, reads
    assert "core_api_tokens" in reads[0] and "core_principal_epoch" in reads[0]


def test_a_booking_finds_and_locks_the_detainee_with_one_statement(app, client, world, api_headers):
    """The family's link and the detainee's row lock (the first step of the lock order) are
    one statement: ``SELECT … JOIN visits_relations … FOR UPDATE OF core_detainees`` on
    PostgreSQL (SQLite's transactions hold the database's write lock and render no FOR
    UPDATE), not a read followed by a locking re-read."""
    family = api_headers(world.visitor)
    assert client.get("/api/v1/visitors/me/bookings", headers=family).status_code == 200
    body = {"slot_id": world.slot_id, "detainee": world.rn}
    resp, seen = sql_statements(
        app, lambda: client.post("/api/v1/visits/bookings", json=body, headers=family)
    )
    assert resp.status_code == 201, resp.json
    detainee_reads = [
        s for s in seen if s.startswith("SELECT") and _main_table(s).startswith("core_detainees")
    ]
    assert len(detainee_reads) == 1, detainee_reads
    assert "visits_relations" in detainee_reads[0]
    if app.extensions["idmaj.db"].engine.dialect.name == "postgresql":
        assert detainee_reads[0].rstrip().endswith("FOR UPDATE OF core_detainees")
