"""The complaint endpoints of interface.md, with their permissions."""

from __future__ import annotations

import datetime as dt

from core.db import session
from plugins.complaints.models import Complaint

from .helpers import GOOD, family, file_api, token


def test_categories_come_from_every_module(app, factories, client) -> None:
    with app.app_context():
        user = factories.user("registry_clerk")
    resp = client.get("/api/v1/complaints/categories?lang=fr", headers=token(app, user))
    assert resp.status_code == 200
    items = {i["code"]: i for i in resp.json["items"]}
    assert {"treatment", "living_conditions", "food", "discrimination", "other"} <= set(items)
    assert items["visits.visit"] == {
        "code": "visits.visit",
        "label": "Visites familiales",
        "module": "visits",
        "office": "visits_officer",
    }
    assert items["funds.money"]["office"] == "accountant"
    assert items["food"]["label"] == "Alimentation"
    assert client.get("/api/v1/complaints/categories").status_code == 401


def test_family_files_reads_and_appeals_end_to_end(app, factories) -> None:
    visitor, det = family(app, factories)
    resp = file_api(app, visitor)
    assert resp.status_code == 201, resp.json
    ref = resp.json["reference"]
    assert resp.json["status"] == "received"
    assert ref.startswith(f"PL-{dt.date.today().year}-")
    due = dt.date.fromisoformat(resp.json["due_on"])
    assert due > dt.date.today()
    c = app.test_client()
    mine = c.get(f"/api/v1/complaints/{ref}", headers=token(app, visitor))
    assert mine.status_code == 200
    assert mine.json["detainee"] == det.registration_number
    assert mine.json["body"] == GOOD["body"] and mine.json["answers"] == []
    # the officer answers; the author sees the answer, never an internal note
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    off = token(app, officer)
    with app.app_context():
        from core.principals import SYSTEM
        from plugins.complaints import services

        services.add_note(services.find(ref), SYSTEM, "note interne: vérifier la cuisine")
        session().commit()
    answered = c.post(
        f"/api/v1/complaints/{ref}/answer", json={"body": "تم إصلاح المطبخ."}, headers=off
    )
    assert answered.status_code == 200, answered.json
    assert answered.json["status"] == "answered"
    seen = c.get(f"/api/v1/complaints/{ref}", headers=token(app, visitor)).json
    assert [a["body"] for a in seen["answers"]] == ["تم إصلاح المطبخ."]
    assert "vérifier" not in str(seen)
    assert seen["appeal_until"] is not None
    # a second answer on an answered complaint: 409
    again = c.post(f"/api/v1/complaints/{ref}/answer", json={"body": "x"}, headers=off)
    assert again.status_code == 409
    # the officer may not appeal; the author may, once
    assert (
        c.post(f"/api/v1/complaints/{ref}/appeal", json={"reason": "x"}, headers=off).status_code
        == 403
    )
    appealed = c.post(
        f"/api/v1/complaints/{ref}/appeal",
        json={"reason": "Mazal bard."},
        headers=token(app, visitor),
    )
    assert appealed.status_code == 200, appealed.json
    assert appealed.json["status"] == "appealed"
    twice = c.post(
        f"/api/v1/complaints/{ref}/appeal", json={"reason": "encore"}, headers=token(app, visitor)
    )
    assert twice.status_code == 409
    # the appeal goes above the establishment: the officer cannot answer it, the centre can
    assert (
        c.post(f"/api/v1/complaints/{ref}/answer", json={"body": "x"}, headers=off).status_code
        == 403
    )
    with app.app_context():
        admin = factories.user("central_admin")
    final = c.post(
        f"/api/v1/complaints/{ref}/answer",
        json={"body": "Réponse en appel.", "outcome": "partly_founded"},
        headers=token(app, admin),
    )
    assert final.status_code == 200 and final.json["status"] == "answered"
    # every step is audited
    with app.app_context():
        from sqlalchemy import select

        from core.audit.models import AuditEvent
        from core.audit.services import pending_events  # noqa: F401

        actions = [
            a
            for (a,) in session().execute(
                select(AuditEvent.action).where(AuditEvent.object_id == ref).order_by(AuditEvent.id)
            )
        ]
    for action in (
        "complaints.file",
        "complaints_complaint.read",
        "complaints.note",
        "complaints.answered",
        "complaints.appealed",
    ):
        assert action in actions, (action, actions)


def test_appeal_after_the_period_is_422(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
    c = app.test_client()
    assert (
        c.post(
            f"/api/v1/complaints/{ref}/answer", json={"body": "ok"}, headers=token(app, officer)
        ).status_code
        == 200
    )
    with app.app_context():
        complaint = session().query(Complaint).filter_by(reference=ref).one()
        complaint.answered_at = complaint.answered_at - dt.timedelta(days=31)
        session().commit()
    late = c.post(
        f"/api/v1/complaints/{ref}/appeal",
        json={"reason": "trop tard"},
        headers=token(app, visitor),
    )
    assert late.status_code == 422
    assert late.json["error"]["code"] == "appeal_period_over"
    # appealing before any answer: 409
    ref2 = file_api(app, visitor, subject="autre").json["reference"]
    early = c.post(
        f"/api/v1/complaints/{ref2}/appeal", json={"reason": "x"}, headers=token(app, visitor)
    )
    assert early.status_code == 409


def test_a_family_member_complains_only_about_linked_detainees(app, factories) -> None:
    visitor, _det = family(app, factories)
    with app.app_context():
        stranger = factories.detainee("EST-A", first_name="Youssef")
    resp = file_api(app, visitor, detainee=stranger.registration_number)
    assert resp.status_code == 422
    assert "detainee" in resp.json["error"]["fields"]
    with app.app_context():
        lonely = factories.visitor()
    resp = file_api(app, lonely)
    assert resp.status_code == 422 and "detainee" in resp.json["error"]["fields"]


def test_staff_file_on_a_detainees_behalf_with_the_channel(app, factories) -> None:
    with app.app_context():
        det = factories.detainee("EST-A")
        officer = factories.user("complaints_officer", ("EST-A",))
        other = factories.detainee("EST-B")
    no_channel = file_api(app, officer, detainee=det.registration_number)
    assert no_channel.status_code == 422 and "channel" in no_channel.json["error"]["fields"]
    ok = file_api(app, officer, detainee=det.registration_number, channel="oral")
    assert ok.status_code == 201
    elsewhere = file_api(app, officer, detainee=other.registration_number, channel="written")
    assert elsewhere.status_code == 422  # another establishment's detainee: not found here
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    assert file_api(app, clerk, detainee=det.registration_number, channel="oral").status_code == 403


def test_daily_limit_per_author(app, factories) -> None:
    visitor, _det = family(app, factories)
    for i in range(3):
        assert file_api(app, visitor, subject=f"n{i}").status_code == 201
    fourth = file_api(app, visitor, subject="n4")
    assert fourth.status_code == 429
    assert fourth.json["error"]["code"] == "daily_limit"


def test_idempotency_key_files_once(app, factories) -> None:
    visitor, _det = family(app, factories)
    headers = {**token(app, visitor), "Idempotency-Key": "k-1"}
    c = app.test_client()
    first = c.post("/api/v1/complaints", json=GOOD, headers=headers)
    second = c.post("/api/v1/complaints", json=GOOD, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json["reference"] == second.json["reference"]
    with app.app_context():
        assert session().query(Complaint).filter_by(author_id=visitor.id).count() == 1


def test_complaints_are_in_the_openapi_document(client) -> None:
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in (
        "/complaints/categories",
        "/complaints",
        "/complaints/{reference}",
        "/complaints/{reference}/answer",
        "/complaints/{reference}/appeal",
    ):
        assert path in paths, path
