"""The visits endpoints of interface.md: shapes, status codes, permissions, bad input."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import session, utcnow
from core.detainees.services import get_detainee
from core.establishments.models import Establishment
from core.principals import SYSTEM
from plugins.visits import services
from plugins.visits.models import Relation, Slot

API = "/api/v1"


def _staff(app, factories, api_headers, role="visits_officer", est="EST-A"):
    with app.app_context():
        user = factories.user(role, (est,) if est else ())
    return api_headers(user)


def _book(client, headers, world, **extra):
    body = {"slot_id": world.slot_id, "detainee": world.rn, **extra}
    return client.post(f"{API}/visits/bookings", json=body, headers=headers)


# --- relations ----------------------------------------------------------------------------


def test_relation_request_then_approval(app, client, world, factories, api_headers):
    family = api_headers(world.stranger)
    resp = client.post(
        f"{API}/visitors/me/relations",
        json={
            "detainee": world.rn,
            "relationship": "spouse",
            "detainee_birth_date": world.birth.isoformat(),
        },
        headers=family,
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "pending" and isinstance(resp.json["id"], int)
    rel_id = resp.json["id"]
    listed = client.get(f"{API}/visitors/me/relations", headers=family).json
    assert listed["total"] == 1 and listed["items"][0]["id"] == rel_id

    assert (
        client.post(f"{API}/visits/relations/{rel_id}/approve", headers=family).status_code == 403
    )
    other = _staff(app, factories, api_headers, est="EST-B")
    assert client.post(f"{API}/visits/relations/{rel_id}/approve", headers=other).status_code == 404
    officer = _staff(app, factories, api_headers)
    resp = client.post(f"{API}/visits/relations/{rel_id}/approve", headers=officer)
    assert resp.status_code == 200 and resp.json["status"] == "approved"
    again = client.post(f"{API}/visits/relations/{rel_id}/approve", headers=officer)
    assert again.status_code == 409


def test_relation_reject_needs_a_reason(app, client, world, factories, api_headers):
    resp = client.post(
        f"{API}/visitors/me/relations",
        json={
            "detainee": world.rn,
            "relationship": "child",
            "detainee_birth_date": world.birth.isoformat(),
        },
        headers=api_headers(world.stranger),
    )
    officer = _staff(app, factories, api_headers)
    url = f"{API}/visits/relations/{resp.json['id']}/reject"
    assert client.post(url, json={"reason": ""}, headers=officer).status_code == 422
    ok = client.post(url, json={"reason": "Pas de lien"}, headers=officer)
    assert ok.status_code == 200 and ok.json["status"] == "rejected"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"detainee": "2020-999999", "relationship": "spouse"}, "detainee_birth_date"),
        ({"detainee": "RN", "relationship": "spouse"}, "detainee_birth_date"),
        (
            {"detainee": "2020-999999", "relationship": "spouse", "detainee_birth_date": "BIRTH"},
            "detainee",
        ),
        (
            {"detainee": "RN", "relationship": "spouse", "detainee_birth_date": "1970-01-01"},
            "detainee",
        ),
        (
            {"detainee": "RN", "relationship": "enemy", "detainee_birth_date": "BIRTH"},
            "relationship",
        ),
        (
            {"detainee": "RN", "relationship": "spouse", "detainee_birth_date": "17/05/1990"},
            "detainee_birth_date",
        ),
        ({"relationship": "spouse"}, "detainee"),
        ({"detainee": "RN", "relationship": "spouse", "extra": 1}, "extra"),
    ],
)
def test_relation_bad_input(client, world, api_headers, body, field):
    subst = {"RN": world.rn, "BIRTH": world.birth.isoformat()}
    body = {k: subst.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    resp = client.post(
        f"{API}/visitors/me/relations", json=body, headers=api_headers(world.stranger)
    )
    assert resp.status_code == 422, resp.json
    assert field in resp.json["error"]["fields"]
    with client.application.app_context():
        assert session().query(Relation).filter_by(visitor_id=world.stranger.id).count() == 0


def test_wrong_rn_and_wrong_birth_date_look_the_same(client, world, api_headers):
    headers = api_headers(world.stranger)
    a = client.post(
        f"{API}/visitors/me/relations",
        json={
            "detainee": "2020-999999",
            "relationship": "spouse",
            "detainee_birth_date": "1990-05-17",
        },
        headers=headers,
    ).json["error"]
    b = client.post(
        f"{API}/visitors/me/relations",
        json={"detainee": world.rn, "relationship": "spouse", "detainee_birth_date": "1970-01-01"},
        headers=headers,
    ).json["error"]
    assert a == b


def test_relation_malformed_and_anonymous(client, world, api_headers):
    headers = api_headers(world.stranger)
    bad = client.post(
        f"{API}/visitors/me/relations",
        data="{nope",
        headers=headers,
        content_type="application/json",
    )
    assert bad.status_code == 400
    anon = client.post(f"{API}/visitors/me/relations", json={"detainee": world.rn})
    assert anon.status_code == 401


def test_staff_cannot_request_relations(app, client, world, factories, api_headers):
    officer = _staff(app, factories, api_headers)
    resp = client.post(
        f"{API}/visitors/me/relations",
        json={
            "detainee": world.rn,
            "relationship": "spouse",
            "detainee_birth_date": world.birth.isoformat(),
        },
        headers=officer,
    )
    assert resp.status_code == 403


# --- slots --------------------------------------------------------------------------------


def test_create_and_list_slots(app, client, world, factories, api_headers):
    officer = _staff(app, factories, api_headers)
    start = (utcnow() + dt.timedelta(days=5)).replace(microsecond=0)
    body = {
        "establishment": "EST-A",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "capacity": 8,
    }
    resp = client.post(f"{API}/visits/slots", json=body, headers=officer)
    assert resp.status_code == 201, resp.json
    assert resp.json["capacity"] == 8 and resp.json["available"] == 8 and resp.json["id"]
    day = services.local_date(start).isoformat()
    listed = client.get(
        f"{API}/visits/slots?establishment=EST-A&from={day}&to={day}",
        headers=api_headers(world.visitor),
    )
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json["items"]] == [resp.json["id"]]
    assert set(listed.json["items"][0]) >= {
        "id",
        "starts_at",
        "ends_at",
        "capacity",
        "booked",
        "available",
    }
    assert set(listed.json) == {"items", "total", "page", "per_page"}


def test_slot_creation_rules_and_permissions(app, client, world, factories, api_headers):
    start = (utcnow() + dt.timedelta(days=5)).replace(microsecond=0)
    good = {
        "establishment": "EST-A",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=1)).isoformat(),
        "capacity": 8,
    }
    officer = _staff(app, factories, api_headers)
    for change, field in [
        ({"capacity": 0}, "capacity"),
        ({"ends_at": start.isoformat()}, "ends_at"),
        ({"starts_at": "2020-01-01T10:00:00"}, "starts_at"),
        ({"capacity": "many"}, "capacity"),
    ]:
        resp = client.post(f"{API}/visits/slots", json={**good, **change}, headers=officer)
        assert resp.status_code == 422, (change, resp.json)
        assert field in resp.json["error"]["fields"]
    other = _staff(app, factories, api_headers, est="EST-B")
    assert client.post(f"{API}/visits/slots", json=good, headers=other).status_code == 404
    clerk = _staff(app, factories, api_headers, role="registry_clerk")
    assert client.post(f"{API}/visits/slots", json=good, headers=clerk).status_code == 403
    family = api_headers(world.visitor)
    assert client.post(f"{API}/visits/slots", json=good, headers=family).status_code == 403
    assert client.post(f"{API}/visits/slots", json=good).status_code == 401


def test_list_slots_bad_query_and_anonymous(client, world, api_headers):
    headers = api_headers(world.visitor)
    assert client.get(f"{API}/visits/slots?from=yesterday", headers=headers).status_code == 400
    assert client.get(f"{API}/visits/slots?establishment=NOPE", headers=headers).status_code == 404
    assert client.get(f"{API}/visits/slots").status_code == 401


# --- bookings -----------------------------------------------------------------------------


def test_book_get_cancel(app, client, world, factories, api_headers):
    family = api_headers(world.visitor)
    resp = _book(
        client,
        family,
        world,
        companions=[
            {"full_name": "Youssef", "national_id": "BE654321", "birth_date": "1995-03-02"}
        ],
    )
    assert resp.status_code == 201, resp.json
    assert resp.json["status"] == "confirmed"
    ref = resp.json["reference"]
    got = client.get(f"{API}/visits/bookings/{ref}", headers=family)
    assert got.status_code == 200 and got.json["adults"] == 2
    assert got.json["companions"][0]["national_id"] == "BE654321"
    # another family, staff elsewhere, other roles: nothing
    assert (
        client.get(f"{API}/visits/bookings/{ref}", headers=api_headers(world.stranger)).status_code
        == 404
    )
    other = _staff(app, factories, api_headers, est="EST-B")
    assert client.get(f"{API}/visits/bookings/{ref}", headers=other).status_code == 404
    doctor = _staff(app, factories, api_headers, role="doctor")
    assert client.get(f"{API}/visits/bookings/{ref}", headers=doctor).status_code == 403
    auditor = _staff(app, factories, api_headers, role="auditor", est=None)
    assert client.get(f"{API}/visits/bookings/{ref}", headers=auditor).status_code == 200
    assert client.get(f"{API}/visits/bookings/{ref}").status_code == 401
    assert (
        client.post(
            f"{API}/visits/bookings/{ref}/cancel", headers=api_headers(world.stranger)
        ).status_code
        == 404
    )
    assert client.post(f"{API}/visits/bookings/{ref}/cancel", headers=auditor).status_code == 403
    cancel = client.post(f"{API}/visits/bookings/{ref}/cancel", headers=family)
    assert cancel.status_code == 200 and cancel.json["status"] == "cancelled"
    assert client.post(f"{API}/visits/bookings/{ref}/cancel", headers=family).status_code == 409
    mine = client.get(f"{API}/visitors/me/bookings", headers=family).json
    assert mine["items"][0]["status"] == "cancelled"


def test_staff_cancel_with_reason(app, client, world, factories, api_headers):
    ref = _book(client, api_headers(world.visitor), world).json["reference"]
    officer = _staff(app, factories, api_headers)
    resp = client.post(
        f"{API}/visits/bookings/{ref}/cancel", json={"reason": "Salle fermée"}, headers=officer
    )
    assert resp.status_code == 200
    assert (
        client.get(f"{API}/visits/bookings/{ref}", headers=officer).json["reason"] == "Salle fermée"
    )


@pytest.mark.parametrize(
    "extra,status,code",
    [
        ({"slot_id": "x"}, 422, "validation_failed"),
        ({"slot_id": 999999}, 422, "slot_not_found"),
        ({"detainee": "2020-999999"}, 422, "not_linked"),
        (
            {"companions": [{"full_name": "A", "birth_date": "1980-01-01"}]},
            422,
            "validation_failed",
        ),
        ({"companions": [{"full_name": "A"}]}, 422, "validation_failed"),
        (
            {
                "companions": [
                    {"full_name": f"A{i}", "national_id": f"BE{i}1111", "birth_date": "1980-01-01"}
                    for i in range(3)
                ]
            },
            422,
            "too_many_visitors",
        ),
        ({"unknown": True}, 422, "validation_failed"),
    ],
)
def test_booking_bad_input(client, world, api_headers, extra, status, code):
    resp = _book(client, api_headers(world.visitor), world, **extra)
    assert resp.status_code == status, resp.json
    assert resp.json["error"]["code"] == code
    with client.application.app_context():
        assert session().get(Slot, world.slot_id).booked == 0


def test_booking_rules_via_api(app, client, world, factories, api_headers):
    # unlinked
    resp = _book(client, api_headers(world.stranger), world)
    assert resp.status_code == 422 and resp.json["error"]["code"] == "not_linked"
    # elsewhere
    resp = client.post(
        f"{API}/visits/bookings",
        json={"slot_id": world.other_slot_id, "detainee": world.rn},
        headers=api_headers(world.visitor),
    )
    assert resp.status_code == 422 and resp.json["error"]["code"] == "detainee_elsewhere"
    # staff cannot book as a family
    officer = _staff(app, factories, api_headers)
    assert _book(client, officer, world).status_code == 403
    assert client.post(f"{API}/visits/bookings", json={}).status_code == 401


def test_full_slot_answers_409(app, client, world, factories, api_headers):
    with app.app_context():
        session().get(Slot, world.slot_id).capacity = 1
        session().commit()
        det2 = factories.detainee("EST-A")
        from .conftest import link

        link(world.stranger.id, det2.id)
        session().commit()
        rn2 = det2.registration_number
    assert _book(client, api_headers(world.visitor), world).status_code == 201
    resp = client.post(
        f"{API}/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": rn2},
        headers=api_headers(world.stranger),
    )
    assert resp.status_code == 409 and resp.json["error"]["code"] == "slot_full"


def test_check_in_and_outcome(app, client, world, factories, api_headers):
    with app.app_context():
        slot = session().get(Slot, world.slot_id)
        slot.starts_at = utcnow() + dt.timedelta(minutes=30)
        slot.ends_at = utcnow() + dt.timedelta(minutes=90)
        session().commit()
        from core.identity.models import User

        ref = services._create_booking(
            slot=session().get(Slot, world.slot_id),
            detainee=get_detainee(world.rn, SYSTEM),
            visitor=session().get(User, world.visitor.id),
            visitor_name="Fatima",
            visitor_national_id="BE1",
            party=services.Party(1, 0),
            rules=services.get_rules(world.est_id),
            status="confirmed",
            actor=SYSTEM,
        ).reference
        session().commit()
    family = api_headers(world.visitor)
    assert client.post(f"{API}/visits/bookings/{ref}/check-in", headers=family).status_code == 403
    other = _staff(app, factories, api_headers, est="EST-B")
    assert client.post(f"{API}/visits/bookings/{ref}/check-in", headers=other).status_code == 404
    officer = _staff(app, factories, api_headers)
    resp = client.post(f"{API}/visits/bookings/{services.QR_PREFIX}{ref}/check-in", headers=officer)
    assert resp.status_code == 200 and resp.json["status"] == "checked_in"
    again = client.post(f"{API}/visits/bookings/{ref}/check-in", headers=officer)
    assert again.status_code == 409
    bad = client.post(
        f"{API}/visits/bookings/{ref}/outcome", json={"outcome": "ended_early"}, headers=officer
    )
    assert bad.status_code == 422 and "reason" in bad.json["error"]["fields"]
    ok = client.post(
        f"{API}/visits/bookings/{ref}/outcome",
        json={"outcome": "ended_early", "reason": "Comportement"},
        headers=officer,
    )
    assert ok.status_code == 200 and ok.json["status"] == "ended_early"
    assert (
        client.post(f"{API}/visits/bookings/NOPE2345/check-in", headers=officer).status_code == 404
    )


def test_ban_endpoint(app, client, world, factories, api_headers):
    ref = _book(client, api_headers(world.visitor), world).json["reference"]
    officer = _staff(app, factories, api_headers)
    body = {
        "visitor_national_id": world.visitor.national_id,
        "establishment": "EST-A",
        "reason": "Incident à la porte",
    }
    bad = client.post(
        f"{API}/visits/bans", json={**body, "visitor_national_id": "ZZ1"}, headers=officer
    )
    assert bad.status_code == 422 and "visitor" in bad.json["error"]["fields"]
    resp = client.post(f"{API}/visits/bans", json=body, headers=officer)
    assert resp.status_code == 201
    assert client.get(f"{API}/visits/bookings/{ref}", headers=officer).json["status"] == "cancelled"
    assert (
        _book(client, api_headers(world.visitor), world).json["error"]["code"] == "visitor_banned"
    )


def test_openapi_lists_the_visits_endpoints(client):
    doc = client.get(f"{API}/openapi.json").json
    for path in (
        "/visitors/me/relations",
        "/visits/relations/{relation_id}/approve",
        "/visits/slots",
        "/visits/bookings",
        "/visits/bookings/{reference}",
        "/visits/bookings/{reference}/cancel",
        "/visits/bookings/{reference}/check-in",
    ):
        assert any(p.endswith(path) for p in doc["paths"]), path


def test_relationship_words_families_use_are_understood():
    from plugins.visits.services import relationship_code

    assert relationship_code("mother") == "parent"
    assert relationship_code("Brother") == "sibling"
    assert relationship_code("épouse") == "spouse"
    assert relationship_code("other relative") == "other_relative"
    assert relationship_code("parent") == "parent"
    assert relationship_code("enemy") is None
    assert relationship_code(12) is None


def test_slot_list_without_an_establishment_is_scoped_to_the_staff_members(
    app, client, world, factories, api_headers
):
    """No code in the visits service restricts the list: the query layer does. Staff of one
    establishment see only its slots; families and national roles see every establishment's."""
    with app.app_context():
        other = session().get(Establishment, world.other_id)
        start = (utcnow() + dt.timedelta(days=6)).replace(microsecond=0)
        theirs = services.create_slot(SYSTEM, other, start, start + dt.timedelta(hours=1), 4)
        session().commit()
        theirs_id = theirs.id

    def listed(headers):
        resp = client.get(f"{API}/visits/slots?per_page=100", headers=headers)
        assert resp.status_code == 200, resp.json
        return {s["id"] for s in resp.json["items"]}

    officer_a = listed(_staff(app, factories, api_headers))
    assert world.slot_id in officer_a and theirs_id not in officer_a
    officer_b = listed(_staff(app, factories, api_headers, est="EST-B"))
    assert theirs_id in officer_b and world.slot_id not in officer_b
    for everyone in (
        api_headers(world.visitor),
        _staff(app, factories, api_headers, "auditor", ""),
    ):
        assert {world.slot_id, theirs_id} <= listed(everyone)
