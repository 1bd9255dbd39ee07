"""The audit trail: every change is recorded, the hash chain detects tampering, the database
refuses edits on PostgreSQL, concurrent writers keep one chain, and the /audit/ page filters."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text

from core.audit import services as audit
from core.audit.models import AuditEvent
from core.cli import cli
from core.config import TIMEZONE
from core.db import session
from core.detainees import services as detainees
from core.principals import SYSTEM


def _verify(app):
    return app.test_cli_runner().invoke(cli, ["audit", "verify"])


def _events(n: int) -> list[int]:
    events = [audit.record("test.event", "thing", i, summary={"i": i}) for i in range(n)]
    session().commit()  # events are chained and written at commit
    return [ev.id for ev in events]


def _bypass_trigger() -> None:
    """On PostgreSQL the trigger refuses UPDATE/DELETE: a superuser can bypass it to simulate a
    tampering done outside the application (SET LOCAL: undone with the test's transaction)."""
    if session().get_bind().dialect.name == "postgresql":
        session().execute(text("SET LOCAL session_replication_role = replica"))


# --------------------------------------------------------------------------------------------
# every change writes an event
# --------------------------------------------------------------------------------------------


def test_changes_write_events_with_who_what_where_when(app, factories):
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
        est = factories.establishment("EST-A")
        det = detainees.admit(
            {
                "first_name": "Omar",
                "last_name": "Tazi",
                "birth_date": "1980-01-01",
                "sex": "M",
                "legal_status": "pretrial",
                "establishment": "EST-A",
            },
            clerk,
        )
        detainees.update_detainee(det, {"last_name": "Et-Tazi"}, clerk)
        detainees.release(det, clerk, note="court order 12")
        session().commit()
        events = list(
            session().scalars(
                select(AuditEvent)
                .where(AuditEvent.object_id == det.registration_number)
                .where(AuditEvent.object_type == "detainee")  # modules add their own events
                .order_by(AuditEvent.id)
            )
        )
        assert [e.action for e in events] == [
            "detainee.admit",
            "detainee.update",
            "detainee.release",
        ]
        for e in events:
            assert e.actor_id == clerk.id
            assert e.actor_username == clerk.username
            assert e.object_type == "detainee"
            assert e.establishment_id == est.id
            assert e.occurred_at.tzinfo is not None
        assert events[1].summary == {"last_name": ["Tazi", "Et-Tazi"]}
        assert events[2].summary["note"] == "court order 12"


def test_record_read_writes_a_read_event(app):
    with app.app_context():
        ev = audit.record_read("health_file", "2025-000001", summary={"section": "all"})
        session().commit()
        assert ev.action == "health_file.read"
        assert ev.object_id == "2025-000001"
        assert audit.verify().ok


# --------------------------------------------------------------------------------------------
# idmaj audit verify
# --------------------------------------------------------------------------------------------


def test_verify_passes_on_an_intact_trail(app):
    with app.app_context():
        _events(5)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_verify_names_an_edited_event(app):
    with app.app_context():
        ids = _events(5)
        _bypass_trigger()
        session().execute(
            text("UPDATE core_audit_events SET summary = :s WHERE id = :id"),
            {"s": '{"i": 999}', "id": ids[2]},
        )
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[2]}" in result.output
    assert "edited" in result.output


def test_verify_names_the_event_after_one_deleted_in_the_middle(app):
    with app.app_context():
        ids = _events(5)
        _bypass_trigger()
        session().execute(text("DELETE FROM core_audit_events WHERE id = :id"), {"id": ids[2]})
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[3]}" in result.output


def test_verify_detects_the_last_event_deleted(app):
    with app.app_context():
        ids = _events(3)
        _bypass_trigger()
        session().execute(text("DELETE FROM core_audit_events WHERE id = :id"), {"id": ids[-1]})
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[-1]}" in result.output
    assert "deleted" in result.output


def test_verify_detects_an_inserted_event(app):
    with app.app_context():
        ids = _events(3)
        first = session().get(AuditEvent, ids[0])
        forged = AuditEvent(
            occurred_at=first.occurred_at,
            actor_username="intruder",
            action="test.event",
            object_type="thing",
            object_id="x",
            summary={},
            ip="",
            prev_hash=first.prev_hash,
            hash="f" * 64,
        )
        session().add(forged)
        session().commit()
        forged_id = forged.id
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {forged_id}" in result.output


# --------------------------------------------------------------------------------------------
# the database refuses UPDATE and DELETE on PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.mark.postgresql  # SQLite has no such trigger: the hash chain (tests above) guards there
def test_database_refuses_update_and_delete_of_events_on_postgresql(app):
    with app.app_context():
        assert session().get_bind().dialect.name == "postgresql"
        ids = _events(2)
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname = 'core_audit_events_immutable'"
        assert session().execute(text(sql)).scalar() == 1
        for sql in (
            "UPDATE core_audit_events SET summary = '{}' WHERE id = :id",
            "DELETE FROM core_audit_events WHERE id = :id",
        ):
            with pytest.raises(sa_exc.DBAPIError, match="append-only"), session().begin_nested():
                session().execute(text(sql), {"id": ids[0]})
        assert session().scalar(select(func.count()).where(AuditEvent.id.in_(ids))) == 2
        assert audit.verify().ok


# --------------------------------------------------------------------------------------------
# concurrency: one chain whatever the number of writers
# --------------------------------------------------------------------------------------------


@pytest.mark.concurrency
def test_concurrent_writers_keep_one_intact_chain(fresh_app):
    errors: list[BaseException] = []
    per_thread, threads = 8, 6
    start = threading.Barrier(threads)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with fresh_app.app_context():
                    audit.record("test.concurrent", "thing", f"{n}-{i}", summary={"n": n})
                    session().commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    with fresh_app.app_context():
        count = session().scalar(select(func.count()).where(AuditEvent.action == "test.concurrent"))
        assert count == per_thread * threads
        result = audit.verify()
        assert result.ok, result
    cli_result = fresh_app.test_cli_runner().invoke(cli, ["audit", "verify"])
    assert cli_result.exit_code == 0, cli_result.output


# --------------------------------------------------------------------------------------------
# the /audit/ page
# --------------------------------------------------------------------------------------------


def test_audit_page_anonymous_is_sent_to_sign_in(client):
    resp = client.get("/audit/")
    assert resp.status_code == 302
    assert "/login" in resp.headers["Location"]


@pytest.mark.parametrize(
    "role",
    [
        "director",
        "registry_clerk",
        "visits_officer",
        "doctor",
        "accountant",
        "transfers_officer",
        "complaints_officer",
    ],
)
def test_audit_page_refused_to_establishment_staff(client, login_as, role):
    login_as(role, "EST-A")
    assert client.get("/audit/").status_code == 403


@pytest.mark.parametrize("role", ["auditor", "central_admin"])
def test_audit_page_open_to_auditors_and_central_administration(client, login_as, role):
    login_as(role, ())
    resp = client.get("/audit/")
    assert resp.status_code == 200
    assert 'name="actor"' in resp.get_data(as_text=True)


@pytest.fixture
def trail(app, factories):
    """Two clerks at two establishments each admit one detainee."""
    with app.app_context():
        clerk_a = factories.user("registry_clerk", ("EST-A",), username="clerka")
        clerk_b = factories.user("registry_clerk", ("EST-B",), username="clerkb")
        dets = {}
        for clerk, code, name in ((clerk_a, "EST-A", "Alaoui"), (clerk_b, "EST-B", "Bennani")):
            dets[code] = detainees.admit(
                {
                    "first_name": "Said",
                    "last_name": name,
                    "birth_date": "1975-02-03",
                    "sex": "M",
                    "legal_status": "convicted",
                    "establishment": code,
                },
                clerk,
            ).registration_number
        detainees.update_detainee(
            detainees.get_detainee(dets["EST-A"], SYSTEM), {"legal_status": "pretrial"}, clerk_a
        )
        session().commit()
    return dets


def _rows(resp) -> str:
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    return body[body.index("<tbody>") : body.index("</tbody>")]


def test_audit_page_filters(client, login_as, trail):
    login_as("auditor", ())
    a, b = trail["EST-A"], trail["EST-B"]

    rows = _rows(client.get("/audit/", query_string={"actor": "clerka"}))
    assert a in rows and b not in rows

    rows = _rows(client.get("/audit/", query_string={"action": "detainee.update"}))
    assert a in rows and b not in rows and "detainee.admit" not in rows

    rows = _rows(client.get("/audit/", query_string={"object_type": "detainee", "object_id": b}))
    assert b in rows and a not in rows

    rows = _rows(client.get("/audit/", query_string={"establishment": "EST-B"}))
    assert b in rows and a not in rows

    today = dt.datetime.now(ZoneInfo(TIMEZONE)).date()  # the page's days are local days
    rows = _rows(client.get("/audit/", query_string={"since": today.isoformat()}))
    assert a in rows and b in rows
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    rows = _rows(client.get("/audit/", query_string={"since": tomorrow}))
    assert a not in rows and b not in rows
    yesterday = (today - dt.timedelta(days=1)).isoformat()
    rows = _rows(client.get("/audit/", query_string={"until": yesterday}))
    assert a not in rows and b not in rows
    rows = _rows(client.get("/audit/", query_string={"until": today.isoformat()}))
    assert a in rows and b in rows


@pytest.mark.parametrize(
    "args",
    [
        {"since": "not-a-date"},
        {"until": "2025-13-45"},
        {"until": "9999-12-31"},
        {"since": "0001-01-01"},
        {"page": "x"},
        {"page": "-3"},
        {"establishment": "NOPE"},
        {"actor": "x" * 5000},
        {"object_id": "\x00"},
    ],
)
def test_audit_page_bad_filters_never_fail(client, login_as, trail, args):
    login_as("central_admin", ())
    assert client.get("/audit/", query_string=args).status_code == 200
