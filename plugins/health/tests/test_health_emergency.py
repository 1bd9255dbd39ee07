"""Emergency access: a reason, the core's audited bypass, the head doctor told, the audit
flag, expiry; the medical inspector reads but never writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from core.audit.models import AuditEvent
from core.db import session
from core.notifications.models import OutboxMessage
from plugins.health.models import EmergencyAccess
from plugins.health.services.access import record_expiries
from plugins.health.tests.helpers import CONSULTATION, audit_actions, world

REASON = "Transféré inconscient à notre infirmerie"


def _grant(client, rn, headers, reason=REASON):
    return client.post(
        f"/api/v1/health/files/{rn}/emergency-access", json={"reason": reason}, headers=headers
    )


def test_emergency_access_is_audited_notified_and_expires(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    h = api_headers(w["other_nurse"])
    assert client.get(f"/api/v1/health/files/{rn}", headers=h).status_code == 404
    resp = _grant(client, rn, h)
    assert resp.status_code == 201
    expires = dt.datetime.fromisoformat(resp.json["expires_at"])
    assert (
        dt.timedelta(hours=3, minutes=59)
        < expires - dt.datetime.now(dt.UTC)
        <= dt.timedelta(hours=4)
    )
    assert client.get(f"/api/v1/health/files/{rn}", headers=h).status_code == 200
    # a nurse in an emergency may write too (the care she gives is recorded)
    resp = client.post(f"/api/v1/health/files/{rn}/consultations", json=CONSULTATION, headers=h)
    assert resp.status_code == 201
    with app.app_context():
        events = list(
            session().scalars(
                select(AuditEvent).where(AuditEvent.object_id == rn).order_by(AuditEvent.id)
            )
        )
        reads = [e for e in events if e.action == "health_file.read"]
        assert reads and all(e.summary.get("emergency") is True for e in reads)
        assert all(e.summary.get("reason") == REASON for e in reads)
        grant = next(e for e in events if e.action == "health.emergency.grant")
        assert grant.summary["emergency"] is True and grant.summary["reason"] == REASON
        created = next(e for e in events if e.action == "health.consultation.create")
        assert created.summary.get("emergency") is True
        # the core's audited bypass was used, with the reason
        bypasses = list(
            session().scalars(select(AuditEvent).where(AuditEvent.action == "scope.bypass"))
        )
        assert any(REASON in (b.summary or {}).get("reason", "") for b in bypasses)
        # the head doctor of the detainee's establishment is told, through the outbox
        told = list(
            session().scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "health.emergency_access")
            )
        )
        assert [m.user_id for m in told] == [w["head"].id]
        assert rn in told[0].subject
        # expiry: the grant ends; the file is gone again
        session().execute(
            update(EmergencyAccess).values(
                expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
            )
        )
        session().commit()
    assert client.get(f"/api/v1/health/files/{rn}", headers=h).status_code == 404
    with app.app_context():
        assert record_expiries() == 1
        assert record_expiries() == 0
        session().commit()
    assert "health.emergency.expire" in audit_actions(app, rn)


def test_the_care_team_needs_no_emergency_and_a_reason_is_required(
    app, client, factories, api_headers
):
    w = world(app, factories)
    rn = w["rn"]
    resp = _grant(client, rn, api_headers(w["doctor"]))
    assert resp.status_code == 409 and resp.json["error"]["code"] == "not_needed"
    h = api_headers(w["other_doctor"])
    for bad in ("", "   ", "x" * 501, "a\x00b"):
        resp = _grant(client, rn, h, bad)
        assert resp.status_code in (400, 422), (bad, resp.status_code)
    assert _grant(client, "2099-999999", h).status_code == 404
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-B",))
    assert _grant(client, rn, api_headers(clerk)).status_code == 403


def test_the_medical_inspector_reads_under_emergency_but_never_writes(
    app, client, factories, api_headers
):
    w = world(app, factories)
    rn = w["rn"]
    with app.app_context():
        inspector = factories.user("medical_inspector", ("EST-B",))
    h = api_headers(inspector)
    assert client.get(f"/api/v1/health/files/{rn}", headers=h).status_code == 404
    assert _grant(client, rn, h, "Inspection after a death in custody").status_code == 201
    assert client.get(f"/api/v1/health/files/{rn}", headers=h).status_code == 200
    resp = client.post(f"/api/v1/health/files/{rn}/consultations", json=CONSULTATION, headers=h)
    assert resp.status_code == 403


def test_emergency_lasts_the_configured_hours(app, client, factories, api_headers, monkeypatch):
    monkeypatch.setitem(app.config, "HEALTH_EMERGENCY_HOURS", 1)
    w = world(app, factories)
    resp = _grant(client, w["rn"], api_headers(w["other_doctor"]))
    expires = dt.datetime.fromisoformat(resp.json["expires_at"])
    assert expires - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=1)


def test_emergency_pages(app, client, factories):
    from core.testing import TEST_PASSWORD

    w = world(app, factories)
    rn = w["rn"]
    client.post("/login", data={"username": w["other_doctor"].username, "password": TEST_PASSWORD})
    resp = client.get(f"/health/files/{rn}")
    assert resp.status_code == 302 and f"/health/files/{rn}/emergency" in resp.headers["Location"]
    page = client.get(f"/health/files/{rn}/emergency")
    assert page.status_code == 200
    assert client.post(f"/health/files/{rn}/emergency", data={"reason": ""}).status_code == 422
    resp = client.post(f"/health/files/{rn}/emergency", data={"reason": REASON})
    assert resp.status_code == 302
    page = client.get(f"/health/files/{rn}")
    assert page.status_code == 200 and b'data-testid="health-emergency"' in page.data
    # the access log page lists the emergency, for the detainee's care team
    client.get("/logout")
    client.post("/login", data={"username": w["doctor"].username, "password": TEST_PASSWORD})
    log = client.get(f"/health/files/{rn}/access-log")
    assert log.status_code == 200 and REASON in log.get_data(as_text=True)
