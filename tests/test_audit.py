"""The audit trail: every change is recorded, the hash chain detects tampering, the database
refuses edits on PostgreSQL, concurrent writers keep one chain, and the /audit/ page filters.
Events are written at commit without a lock and chained later by the sealer (``_events`` seals)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text

from core.audit import sealer
from core.audit import services as audit
from core.audit.models import AuditCheckpoint, AuditEvent
from core.cli import cli
from core.config import TIMEZONE
from core.db import session
from core.detainees import services as detainees


def _verify(app):
    return app.test_cli_runner().invoke(cli, ["audit", "verify"])


@pytest.fixture
def anchors(app, tmp_path, monkeypatch):
    """An anchor file of this test's own (the database is rolled back after each test)."""
    path = tmp_path / "audit-anchors.jsonl"
    monkeypatch.setitem(app.config, "AUDIT_ANCHOR_FILE", str(path))
    return path


def _events(n: int, *, seal: bool = True) -> list[int]:
    events = [audit.record("test.event", "thing", i, summary={"i": i}) for i in range(n)]
    session().commit()  # events are written at commit…
    if seal:
        sealer.seal_all()  # …and chained by the sealer
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


def test_verify_passes_on_an_intact_trail(app, anchors):
    with app.app_context():
        _events(5)
    result = _verify(app)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output
    lines = [json.loads(line) for line in anchors.read_text().splitlines()]
    with app.app_context():
        cps = list(session().scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)))
        assert [audit.checkpoint_as_json(cp) for cp in cps] == lines


def test_events_are_written_unsealed_without_a_lock_and_shown_before_sealing(app, anchors):
    with app.app_context():
        ids = _events(3, seal=False)
        rows = [session().get(AuditEvent, i) for i in ids]
        assert all(r.hash is None and r.chain_index is None for r in rows)
        result = audit.verify()
        assert result.ok and result.unsealed >= 3
        assert sealer.seal_pending() >= 3
        rows = [session().get(AuditEvent, i, populate_existing=True) for i in ids]
        assert all(r.hash and r.chain_index for r in rows)
        assert audit.verify().ok


def test_rolled_back_transactions_and_savepoints_write_no_event(app, anchors):
    with app.app_context():
        audit.record("test.rolled", "thing", "tx")
        session().rollback()
        kept = audit.record("test.kept", "thing", "outer")
        with pytest.raises(RuntimeError), session().begin_nested():
            audit.record("test.rolled", "thing", "savepoint")
            raise RuntimeError("undo the savepoint")
        session().commit()
        sealer.seal_all()
        actions = list(
            session().scalars(select(AuditEvent.object_id).where(AuditEvent.object_type == "thing"))
        )
        assert actions == ["outer"]
        assert kept.id is not None
        assert audit.verify().ok


def test_verify_names_an_edited_event(app, anchors):
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


def test_verify_names_the_event_after_one_deleted_in_the_middle(app, anchors):
    with app.app_context():
        ids = _events(5)
        _bypass_trigger()
        session().execute(text("DELETE FROM core_audit_events WHERE id = :id"), {"id": ids[2]})
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[3]}" in result.output
    assert "deleted" in result.output


def test_verify_detects_the_last_event_deleted(app, anchors):
    with app.app_context():
        ids = _events(3)
        _bypass_trigger()
        session().execute(text("DELETE FROM core_audit_events WHERE id = :id"), {"id": ids[-1]})
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[-1]}" in result.output
    assert "deleted" in result.output


def test_verify_detects_an_event_inserted_outside_the_chain(app, anchors):
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
            prev_hash="e" * 64,
            hash="f" * 64,
        )
        session().add(forged)
        session().commit()
        forged_id = forged.id
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {forged_id}" in result.output


def test_verify_detects_an_event_appended_to_the_chain_by_hand(app, anchors):
    """A forged event correctly linked and hashed after the head: no signed checkpoint."""
    with app.app_context():
        ids = _events(3)
        head = session().get(AuditEvent, ids[-1])
        forged = AuditEvent(
            occurred_at=head.occurred_at,
            actor_username="intruder",
            action="test.event",
            object_type="thing",
            object_id="x",
            summary={},
            ip="",
            prev_hash=head.hash,
            chain_index=head.chain_index + 1,
        )
        forged.hash = audit.compute_hash(forged)
        session().add(forged)
        session().commit()
        forged_id = forged.id
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {forged_id}" in result.output


def test_verify_detects_reordered_events(app, anchors):
    with app.app_context():
        ids = _events(4)
        a, b = (session().get(AuditEvent, i) for i in ids[1:3])
        ia, ib = a.chain_index, b.chain_index
        _bypass_trigger()
        for event_id, index in ((ids[1], -1), (ids[2], ia), (ids[1], ib)):
            session().execute(
                text("UPDATE core_audit_events SET chain_index = :c WHERE id = :id"),
                {"c": index, "id": event_id},
            )
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[2]}" in result.output


def _rehash_from(event_id: int) -> None:
    """What someone with SQL access but without the key does: rewrite, then rehash the rest."""
    rows = list(
        session().scalars(
            select(AuditEvent)
            .where(AuditEvent.chain_index.is_not(None))
            .order_by(AuditEvent.chain_index)
        )
    )
    prev = audit.GENESIS_HASH
    for row in rows:
        if row.id >= event_id:
            row.prev_hash = prev
            session().execute(
                text("UPDATE core_audit_events SET prev_hash = NULL, hash = NULL WHERE id = :i"),
                {"i": row.id},
            )
        prev = row.hash if row.id < event_id else audit.compute_hash(row)
    for row in rows:
        if row.id >= event_id:
            session().execute(
                text("UPDATE core_audit_events SET prev_hash = :p, hash = :h WHERE id = :i"),
                {"p": row.prev_hash, "h": audit.compute_hash(row), "i": row.id},
            )
            session().expunge(row)


def test_a_chain_rewritten_and_rehashed_in_sql_fails_on_the_signatures(app, anchors):
    with app.app_context():
        ids = _events(5)
        _bypass_trigger()
        session().execute(
            text("UPDATE core_audit_events SET summary = :s WHERE id = :id"),
            {"s": '{"i": 999}', "id": ids[2]},
        )
        session().expire_all()
        _rehash_from(ids[2])
        session().commit()
        session().expire_all()
        result = audit.verify()
        assert not result.ok
        assert "checkpoint" in result.reason
        # …and moving the checkpoint to the new head breaks its signature
        _bypass_trigger()
        new_head = session().scalar(
            select(AuditEvent.hash).order_by(AuditEvent.chain_index.desc()).limit(1)
        )
        session().execute(text("UPDATE core_audit_checkpoints SET head_hash = :h"), {"h": new_head})
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert "signature" in result.output


def test_verify_detects_the_trail_emptied(app, anchors):
    """TRUNCATE is refused on PostgreSQL (below); a DELETE of everything by someone who
    bypasses it still leaves the anchor file, outside the database."""
    with app.app_context():
        ids = _events(3)
        _bypass_trigger()
        session().execute(text("DELETE FROM core_audit_events"))
        session().execute(text("DELETE FROM core_audit_checkpoints"))
        session().commit()
    result = _verify(app)
    assert result.exit_code == 1
    assert f"event {ids[-1]}" in result.output
    assert "anchor file" in result.output


def test_a_sealer_crash_mid_batch_loses_nothing(app, anchors, monkeypatch):
    with app.app_context():
        ids = _events(6, seal=False)
        real = audit.compute_hash
        calls = {"n": 0}

        def crash_after_three(event):
            calls["n"] += 1
            if calls["n"] > 3:
                raise RuntimeError("the sealer dies mid-batch")
            return real(event)

        monkeypatch.setattr(audit, "compute_hash", crash_after_three)
        with pytest.raises(RuntimeError, match="mid-batch"):
            sealer.seal_pending()
        rows = [session().get(AuditEvent, i, populate_existing=True) for i in ids]
        assert all(r.hash is None for r in rows)  # the batch rolled back whole
        monkeypatch.setattr(audit, "compute_hash", real)
        sealer.seal_all()
        rows = [session().get(AuditEvent, i, populate_existing=True) for i in ids]
        assert all(r.hash for r in rows)
        indexes = [r.chain_index for r in rows]
        assert indexes == list(range(indexes[0], indexes[0] + 6))
        assert audit.verify().ok


def test_the_seal_command_seals_and_the_anchor_file_is_repaired(app, anchors):
    with app.app_context():
        _events(2, seal=False)
    result = app.test_cli_runner().invoke(cli, ["audit", "seal"])
    assert result.exit_code == 0, result.output
    assert "sealed" in result.output
    anchors.write_text("")  # lost after a commit (crash before the file was written)
    with app.app_context():
        assert sealer.anchor_checkpoints() >= 1
    assert _verify(app).exit_code == 0


# --------------------------------------------------------------------------------------------
# the database refuses UPDATE, DELETE and TRUNCATE on PostgreSQL
# --------------------------------------------------------------------------------------------


@pytest.mark.postgresql  # SQLite has no such trigger: the hash chain (tests above) guards there
def test_database_refuses_update_and_delete_of_events_on_postgresql(app, anchors):
    with app.app_context():
        assert session().get_bind().dialect.name == "postgresql"
        ids = _events(2)
        sql = "SELECT count(*) FROM pg_trigger WHERE tgname = 'core_audit_events_immutable'"
        assert session().execute(text(sql)).scalar() == 1
        for sql in (
            "UPDATE core_audit_events SET summary = '{}' WHERE id = :id",
            "UPDATE core_audit_events SET hash = 'x' WHERE id = :id",
            "UPDATE core_audit_events SET chain_index = 999999 WHERE id = :id",
            "DELETE FROM core_audit_events WHERE id = :id",
            "TRUNCATE core_audit_events CASCADE",
            "UPDATE core_audit_checkpoints SET head_hash = 'x'",
            "DELETE FROM core_audit_checkpoints",
            "TRUNCATE core_audit_checkpoints",
        ):
            with pytest.raises(sa_exc.DBAPIError, match="append-only"), session().begin_nested():
                session().execute(text(sql), {"id": ids[0]})
        assert session().scalar(select(func.count()).where(AuditEvent.id.in_(ids))) == 2
        assert audit.verify().ok


@pytest.mark.postgresql
def test_the_trigger_lets_only_the_sealer_set_the_hashes_of_an_unsealed_event(app, anchors):
    with app.app_context():
        (event_id,) = _events(1, seal=False)
        with pytest.raises(sa_exc.DBAPIError, match="append-only"), session().begin_nested():
            session().execute(
                text("UPDATE core_audit_events SET hash = 'x', summary = '{}' WHERE id = :id"),
                {"id": event_id},
            )
        sealer.seal_all()  # the sealer's own UPDATE: chain_index, prev_hash, hash only
        assert session().get(AuditEvent, event_id, populate_existing=True).hash
        assert audit.verify().ok


# --------------------------------------------------------------------------------------------
# concurrency: no national lock, one chain whatever the number of writers
# --------------------------------------------------------------------------------------------


@pytest.mark.concurrency
def test_concurrent_writers_then_the_sealer_make_one_chain_without_fork_or_gap(
    fresh_app, tmp_path, monkeypatch
):
    monkeypatch.setitem(fresh_app.config, "AUDIT_ANCHOR_FILE", str(tmp_path / "a.jsonl"))
    errors: list[BaseException] = []
    per_thread, threads = 10, 8
    start = threading.Barrier(threads + 1)

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(per_thread):
                with fresh_app.app_context():
                    audit.record("test.concurrent", "thing", f"{n}-{i}", summary={"n": n})
                    session().commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    def seal_meanwhile() -> None:
        try:
            start.wait()
            for _ in range(20):
                with fresh_app.app_context():
                    sealer.seal_pending(batch_size=7)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    workers.append(threading.Thread(target=seal_meanwhile))
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not errors, errors
    with fresh_app.app_context():
        sealer.seal_all()
        count = session().scalar(select(func.count()).where(AuditEvent.action == "test.concurrent"))
        assert count == per_thread * threads
        indexes = list(session().scalars(select(AuditEvent.chain_index).order_by("chain_index")))
        assert indexes == list(range(1, len(indexes) + 1))  # one chain, no gap
        prevs = list(session().scalars(select(AuditEvent.prev_hash)))
        assert len(prevs) == len(set(prevs))  # no fork
        result = audit.verify()
        assert result.ok, result
        assert result.unsealed == 0
    cli_result = fresh_app.test_cli_runner().invoke(cli, ["audit", "verify"])
    assert cli_result.exit_code == 0, cli_result.output


@pytest.mark.concurrency
def test_writers_do_not_wait_for_each_others_commit(fresh_app, tmp_path, monkeypatch):
    """A transaction that has inserted its event and holds its commit open does not delay
    another audited commit; the late event is chained by a later seal, after the other one."""
    monkeypatch.setitem(fresh_app.config, "AUDIT_ANCHOR_FILE", str(tmp_path / "a.jsonl"))
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    slow_id: list[int] = []

    def slow_writer() -> None:
        try:
            with fresh_app.app_context():
                ev = audit.record("test.slow", "thing", "slow")
                audit._write_pending_events(session())  # inserted, as at commit
                slow_id.append(ev.id)
                inserted.set()
                release.wait(30)
                session().commit()
        except BaseException as exc:
            errors.append(exc)
            inserted.set()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert inserted.wait(30)
    began = time.monotonic()
    with fresh_app.app_context():
        fast = audit.record("test.fast", "thing", "fast")
        session().commit()
        fast_id = fast.id
        took = time.monotonic() - began
        assert sealer.seal_all() >= 1  # seals the fast one; the slow one is not committed
    release.set()
    slow.join()
    assert not errors, errors
    assert took < 2, f"an audited commit waited {took:.1f}s for another transaction"
    assert slow_id[0] < fast_id  # the slow event took its id first…
    with fresh_app.app_context():
        sealer.seal_all()
        slow_ev = session().get(AuditEvent, slow_id[0])
        fast_ev = session().get(AuditEvent, fast_id)
        assert slow_ev.chain_index > fast_ev.chain_index  # …and is chained later, not lost
        assert audit.verify().ok


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
