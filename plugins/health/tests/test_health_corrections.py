"""Corrections: a draft consultation edited by its author then signed (page and
``PATCH /api/v1/health/files/{rn}/consultations/{id}``, 409 once signed), and the arrival
screening corrected (page and ``PATCH …/screenings/{id}``) with each change kept, dated, in the
file's history."""

from __future__ import annotations

import re

from sqlalchemy import select

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.health.models import Change, Consultation, Screening
from plugins.health.tests.helpers import CONSULTATION, audit_actions, world

SCREENING = {
    "tuberculosis": "negative",
    "self_harm_risk": "low",
    "pregnancy": "not_applicable",
    "chronic_conditions": "Asthme léger",
    "addictions": "",
    "mental_health": "",
    "notes": "Premier examen",
}


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def _draft(client, rn, headers):
    resp = client.post(
        f"/api/v1/health/files/{rn}/consultations", json=CONSULTATION, headers=headers
    )
    assert resp.status_code == 201, resp.json
    return resp.json["id"]


def _changes(app, object_type, object_id):
    with app.app_context():
        return [
            (c.field, c.old_value, c.new_value, c.actor_username)
            for c in session().scalars(
                select(Change)
                .where(Change.object_type == object_type, Change.object_id == object_id)
                .order_by(Change.id)
            )
        ]


# --- a draft consultation -----------------------------------------------------------------------


def test_api_edits_a_draft_then_409_once_signed(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    h = api_headers(w["nurse"])
    cid = _draft(client, rn, h)
    url = f"/api/v1/health/files/{rn}/consultations/{cid}"
    resp = client.patch(
        url, json={"diagnosis": "Bronchite aiguë", "vitals": {"temperature": "37.4"}}, headers=h
    )
    assert resp.status_code == 200, resp.json
    assert resp.json["diagnosis"] == "Bronchite aiguë"
    assert resp.json["notes"] == CONSULTATION["notes"]  # not given: unchanged
    assert resp.json["vitals"] == {"temperature": "37.4"}
    assert resp.json["status"] == "draft"
    changed = _changes(app, "consultation", cid)
    assert ("diagnosis", CONSULTATION["diagnosis"], "Bronchite aiguë", w["nurse"].username) in (
        changed
    )
    assert "health.consultation.update" in audit_actions(app, rn)
    # another member of the care team may not edit somebody else's draft
    doc = api_headers(w["doctor"])
    resp = client.patch(url, json={"notes": "Autre"}, headers=doc)
    assert resp.status_code == 403
    # signed: read-only
    assert client.post(f"{url}/sign", headers=h).status_code == 200
    resp = client.patch(url, json={"notes": "Trop tard"}, headers=h)
    assert resp.status_code == 409
    assert resp.json["error"]["code"] == "signed_read_only"
    body = client.get(f"/api/v1/health/files/{rn}", headers=h).json
    shown = next(c for c in body["consultations"] if c["id"] == cid)
    assert shown["diagnosis"] == "Bronchite aiguë" and shown["intact"] is True


def test_api_edit_refuses_bad_input_and_strangers(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    h = api_headers(w["doctor"])
    cid = _draft(client, rn, h)
    url = f"/api/v1/health/files/{rn}/consultations/{cid}"
    for body, field in [
        ({"notes": ""}, "notes"),
        ({"notes": "a\x00b"}, None),  # refused by the core for the whole body
        ({"reason": "x" * 501}, "reason"),
        ({"vitals": {"temperature": "99"}}, "vitals.temperature"),
        ({"vitals": {"pulse": "1e400"}}, "vitals.pulse"),
        ({"status": "signed"}, "status"),
        ({"notes": 5}, "notes"),
    ]:
        resp = client.patch(url, json=body, headers=h)
        assert resp.status_code in (400, 422), (body, resp.status_code, resp.json)
        if field:
            assert field in str(resp.json["error"].get("fields", {})), (body, resp.json)
    resp = client.patch(url, data="not json", headers={**h, "Content-Type": "application/json"})
    assert resp.status_code in (400, 422)
    assert (
        client.patch(
            f"/api/v1/health/files/{rn}/consultations/999999", json={}, headers=h
        ).status_code
        == 404
    )
    assert client.patch(url, json={"notes": "x"}).status_code == 401
    for stranger in ("other_doctor", "other_nurse"):
        resp = client.patch(url, json={"notes": "x"}, headers=api_headers(w[stranger]))
        assert resp.status_code in (403, 404)
    with app.app_context():
        for role in ("registry_clerk", "director", "auditor", "central_admin"):
            w[role] = factories.user(role, ("EST-A",))
    for role in ("registry_clerk", "director", "auditor", "central_admin"):
        resp = client.patch(url, json={"notes": "x"}, headers=api_headers(w[role]))
        assert resp.status_code in (403, 404), role
    with app.app_context():
        assert session().get(Consultation, cid).notes == CONSULTATION["notes"]


def test_page_edits_a_draft_then_signs_it(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    resp = client.post(
        f"/health/files/{rn}/consultations/new",
        data={"reason": "Fièvre", "notes": "Fièvre depuis hier", "temperature": "38,5"},
    )
    assert resp.status_code == 302
    url = resp.headers["Location"]
    cid = int(re.search(r"/consultations/(\d+)", url).group(1))
    page = client.get(url)
    assert b'data-testid="health-edit-consultation"' in page.data
    edit = f"/health/files/{rn}/consultations/{cid}/edit"
    form = client.get(edit, headers={"Accept-Language": "ar"})
    assert form.status_code == 200
    assert "Fièvre depuis hier".encode() in form.data and b'value="38.5"' in form.data
    # bad input: a 422 with the message beside the field, nothing saved
    resp = client.post(edit, data={"reason": "Fièvre", "notes": ""})
    assert resp.status_code == 422 and b'id="notes-error"' in resp.data
    resp = client.post(edit, data={"reason": "Fièvre", "notes": "Ok", "temperature": "99"})
    assert resp.status_code == 422
    assert b'id="temperature-error"' in resp.data  # the service's message, beside its field
    with app.app_context():
        assert session().get(Consultation, cid).notes == "Fièvre depuis hier"
    resp = client.post(
        edit,
        data={
            "reason": "Fièvre",
            "notes": "Fièvre depuis hier, frissons",
            "diagnosis": "Grippe",
            "temperature": "38,9",
            "sign": "y",
        },
    )
    assert resp.status_code == 303, resp.data[:1000]
    with app.app_context():
        row = session().get(Consultation, cid)
        assert row.status.value == "signed" and row.diagnosis == "Grippe"
        assert '"38.9"' in row.vitals
    fields = {c[0] for c in _changes(app, "consultation", cid)}
    assert fields == {"notes", "diagnosis", "vitals"}
    # signed: the edit page sends back to the consultation, a POST changes nothing
    resp = client.get(edit)
    assert resp.status_code == 303 and resp.headers["Location"].endswith(f"/consultations/{cid}")
    resp = client.post(edit, data={"reason": "X", "notes": "Y"})
    assert resp.status_code == 303
    with app.app_context():
        assert session().get(Consultation, cid).notes == "Fièvre depuis hier, frissons"
    page = client.get(url)
    assert b'data-testid="health-edit-consultation"' not in page.data
    assert b'data-testid="health-intact"' in page.data


def test_edit_page_permissions(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    resp = client.post(
        f"/health/files/{rn}/consultations/new", data={"reason": "Douleur", "notes": "Dos"}
    )
    cid = int(re.search(r"/consultations/(\d+)", resp.headers["Location"]).group(1))
    edit = f"/health/files/{rn}/consultations/{cid}/edit"
    client.post("/logout")
    resp = client.get(edit)
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    _login(client, w["doctor"])  # care team, but not the author
    assert client.get(edit).status_code == 403
    assert client.post(edit, data={"reason": "X", "notes": "Y"}).status_code == 403
    page = client.get(f"/health/files/{rn}/consultations/{cid}")
    assert b'data-testid="health-edit-consultation"' not in page.data
    client.post("/logout")
    _login(client, w["other_doctor"])  # another establishment: the emergency page, no form
    resp = client.get(edit)
    assert resp.status_code in (302, 403, 404)
    assert b"Dos" not in resp.data
    for role in ("registry_clerk", "director", "auditor", "visits_officer"):
        client.post("/logout")
        with app.app_context():
            user = factories.user(role, ("EST-A",))
        _login(client, user)
        assert client.get(edit).status_code == 403, role
    with app.app_context():
        assert session().get(Consultation, cid).notes == "Dos"


# --- the arrival screening ------------------------------------------------------------------------


def test_screening_corrected_on_the_page_is_kept_in_the_history(app, client, factories):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    assert client.post(f"/health/files/{rn}/screening", data=SCREENING).status_code == 302
    with app.app_context():
        sid = session().scalar(select(Screening.id))
    page = client.get(f"/health/files/{rn}")
    assert b'data-testid="health-correct-screening"' in page.data
    assert b'data-testid="health-screening-corrected"' not in page.data
    url = f"/health/files/{rn}/screenings/{sid}/correct"
    form = client.get(url, headers={"Accept-Language": "fr"})
    assert form.status_code == 200 and "Asthme léger".encode() in form.data
    bad = client.post(url, data={**SCREENING, "tuberculosis": "maybe"})
    assert bad.status_code == 422
    bad = client.post(url, data={**SCREENING, "notes": "x" * 5001})
    assert bad.status_code == 422
    resp = client.post(
        url,
        data={**SCREENING, "tuberculosis": "suspected", "chronic_conditions": "Asthme sévère"},
    )
    assert resp.status_code == 302, resp.data[:1000]
    with app.app_context():
        row = session().get(Screening, sid)
        assert row.tuberculosis.value == "suspected"
        assert row.chronic_conditions == "Asthme sévère"
    assert sorted(_changes(app, "screening", sid)) == [
        ("chronic_conditions", "Asthme léger", "Asthme sévère", w["nurse"].username),
        ("tuberculosis", "negative", "suspected", w["nurse"].username),
    ]
    assert "health.screening.correct" in audit_actions(app, rn)
    page = client.get(f"/health/files/{rn}")
    assert b'data-testid="health-screening-corrected"' in page.data
    history = client.get(f"/health/files/{rn}/history", headers={"Accept-Language": "fr"})
    assert "Asthme léger".encode() in history.data and "Asthme sévère".encode() in history.data
    assert b"Suspect" in history.data  # a code shown translated
    # saving the same values again writes no new history line
    client.post(
        url, data={**SCREENING, "tuberculosis": "suspected", "chronic_conditions": "Asthme sévère"}
    )
    assert len(_changes(app, "screening", sid)) == 2
    # strangers
    client.post("/logout")
    _login(client, w["other_nurse"])
    assert client.post(url, data=SCREENING).status_code in (302, 403, 404)
    with app.app_context():
        assert session().get(Screening, sid).chronic_conditions == "Asthme sévère"
    client.post("/logout")
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    _login(client, clerk)
    assert client.get(url).status_code == 403


def test_screening_corrected_through_the_api(app, client, factories, api_headers):
    w = world(app, factories)
    rn = w["rn"]
    _login(client, w["nurse"])
    assert client.post(f"/health/files/{rn}/screening", data=SCREENING).status_code == 302
    h = api_headers(w["doctor"])
    latest = client.get(f"/api/v1/health/files/{rn}", headers=h).json["screening"]["latest"]
    assert latest["tuberculosis"] == "negative" and latest["corrected_at"] is None
    url = f"/api/v1/health/files/{rn}/screenings/{latest['id']}"
    resp = client.patch(url, json={"self_harm_risk": "high", "notes": "Revu"}, headers=h)
    assert resp.status_code == 200, resp.json
    assert resp.json["self_harm_risk"] == "high" and resp.json["corrected_at"]
    assert resp.json["chronic_conditions"] == "Asthme léger"
    assert {c[0] for c in _changes(app, "screening", latest["id"])} == {"self_harm_risk", "notes"}
    for body in ({"self_harm_risk": "extreme"}, {"notes": "a\x00"}, {"what": 1}, {"notes": 3}):
        resp = client.patch(url, json=body, headers=h)
        assert resp.status_code in (400, 422), body
    assert client.patch(url, json={"notes": "x"}).status_code == 401
    assert (
        client.patch(f"/api/v1/health/files/{rn}/screenings/999999", json={}, headers=h).status_code
        == 404
    )
    resp = client.patch(url, json={"notes": "x"}, headers=api_headers(w["other_doctor"]))
    assert resp.status_code in (403, 404)
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert client.patch(url, json={"notes": "x"}, headers=api_headers(clerk)).status_code in (
        403,
        404,
    )
