"""The fixed endpoints of interface.md: file, consultations, fitness, emergency access, the
access log."""

from __future__ import annotations

from plugins.health.tests.helpers import CONSULTATION, audit_actions, world


def test_care_team_reads_and_writes_and_every_read_is_audited(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    h = api_headers(w["doctor"])
    resp = client.post(f"/api/v1/health/files/{rn}/consultations", json=CONSULTATION, headers=h)
    assert resp.status_code == 201, resp.json
    cid = resp.json["id"]
    resp = client.get(f"/api/v1/health/files/{rn}", headers=h)
    assert resp.status_code == 200, resp.json
    body = resp.json
    assert set(body) >= {
        "detainee",
        "allergies",
        "problems",
        "consultations",
        "prescriptions",
        "fit_to_travel",
    }
    assert body["consultations"][0]["id"] == cid
    assert body["consultations"][0]["notes"] == CONSULTATION["notes"]
    assert body["consultations"][0]["vitals"] == {"temperature": "38.2", "pulse": "96"}
    assert body["fit_to_travel"] is None
    actions = audit_actions(app, rn)
    assert "health.file.open" in actions
    assert actions.count("health_file.read") == 2  # the write opened it too
    nurse = api_headers(w["nurse"])
    assert client.get(f"/api/v1/health/files/{rn}", headers=nurse).status_code == 200
    assert audit_actions(app, rn).count("health_file.read") == 3


def test_other_establishment_sees_nothing_until_emergency_access(
    app, client, factories, api_headers
):
    w = world(app, factories)
    rn = w["rn"]
    h = api_headers(w["other_doctor"])
    resp = client.get(f"/api/v1/health/files/{rn}", headers=h)
    assert resp.status_code == 404
    resp = client.post(
        f"/api/v1/health/files/{rn}/emergency-access", json={"reason": ""}, headers=h
    )
    assert resp.status_code == 422
    resp = client.post(
        f"/api/v1/health/files/{rn}/emergency-access",
        json={"reason": "Admitted unconscious at our infirmary"},
        headers=h,
    )
    assert resp.status_code == 201, resp.json
    assert "expires_at" in resp.json
    resp = client.get(f"/api/v1/health/files/{rn}", headers=h)
    assert resp.status_code == 200
    assert resp.json["emergency_access"] is True
    actions = audit_actions(app, rn)
    assert "health.emergency.grant" in actions
    log = client.get(f"/api/v1/health/files/{rn}/access-log", headers=api_headers(w["doctor"]))
    assert log.status_code == 200
    item = log.json["items"][0]
    assert item["emergency"] is True and item["user"] == w["other_doctor"].username
    assert item["establishment"] == "EST-B"
    assert item["reason"] == "Admitted unconscious at our infirmary"


def test_fitness_blocks_transfers(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    nurse = api_headers(w["nurse"])
    resp = client.post(
        f"/api/v1/health/files/{rn}/fitness", json={"fit_to_travel": False}, headers=nurse
    )
    assert resp.status_code == 403
    doc = api_headers(w["doctor"])
    resp = client.post(
        f"/api/v1/health/files/{rn}/fitness",
        json={"fit_to_travel": False, "needs": "Stretcher, oxygen"},
        headers=doc,
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["fit_to_travel"] is False
    import pytest

    from core.db import session
    from core.detainees.services import get_detainee, move
    from core.errors import Blocked
    from core.establishments.services import get_by_code
    from core.principals import SYSTEM

    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        with pytest.raises(Blocked) as err:
            move(det, get_by_code("EST-B"), SYSTEM)
        assert [b.code for b in err.value.blockers] == ["unfit_to_travel"]
        session().rollback()
