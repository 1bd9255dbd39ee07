"""A family's visits data in the download, and what closing the account does to it (issue 10
point 3: hooks ``user_data_export`` and ``user_account_closing``)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from core.db import session
from core.testing import TEST_PASSWORD

from .conftest import link, make_slot

API = "/api/v1"


def _past_visit(world: Any, status: str, companion: str, national_id: str) -> str:
    """A booking of the family in another slot, in ``status``, with one companion."""
    from plugins.visits.models import Booking, Companion, Slot
    from plugins.visits.services.references import draw_reference

    slot = make_slot(session().get(Slot, world.slot_id).establishment, days=6)
    booking = Booking(
        reference=draw_reference(),
        slot_id=slot.id,
        establishment_id=world.est_id,
        detainee_id=world.det_id,
        visitor_id=world.visitor.id,
        visitor_name="Fatima Benali",
        visitor_national_id=world.visitor.national_id,
        adults=2,
        places=2,
        week_start=slot.starts_at.date(),
        status=status,
    )
    booking.companions = [Companion(full_name=companion, national_id=national_id)]
    session().add(booking)
    session().flush()
    return booking.reference


def test_the_download_shows_links_visits_and_companions(app, client, world, api_headers):
    headers = api_headers(world.visitor)
    booked = client.post(
        f"{API}/visits/bookings",
        json={
            "slot_id": world.slot_id,
            "detainee": world.rn,
            "companions": [
                {
                    "full_name": "Youssef Benali",
                    "national_id": "BE654321",
                    "birth_date": "1995-03-02",
                }
            ],
        },
        headers=headers,
    )
    assert booked.status_code == 201, booked.json
    data = client.get(f"{API}/visitors/me/export", headers=headers).json
    bookings = data["sections"]["visits.bookings"]
    assert [b["reference"] for b in bookings] == [booked.json["reference"]]
    assert "Youssef Benali BE654321 1995-03-02" in bookings[0]["companions"]
    relations = data["sections"]["visits.relations"]
    assert relations[0]["registration_number"] == world.rn and relations[0]["detainee"]
    # another family's export holds none of it
    other = client.get(f"{API}/visitors/me/export", headers=api_headers(world.stranger)).json
    assert other["sections"]["visits.bookings"] == []
    assert "BE654321" not in json.dumps(other)


def test_a_pending_link_does_not_reveal_the_detainee_name_in_the_download(
    app, client, world, factories, api_headers
):
    with app.app_context():
        other = factories.detainee("EST-A", first_name="Karim", last_name="Zerouali")
        link(world.stranger.id, other.id, status="pending")
        session().commit()
    data = client.get(f"{API}/visitors/me/export", headers=api_headers(world.stranger)).json
    assert data["sections"]["visits.relations"][0]["detainee"] == ""
    assert "Zerouali" not in json.dumps(data)


def test_closing_cancels_future_visits_withdraws_requests_and_erases_names(
    app, client, world, factories, api_headers
):
    from core.audit.models import AuditEvent
    from plugins.visits.models import Booking, Relation, Slot

    with app.app_context():
        pending_det = factories.detainee("EST-A")
        pending_id = link(world.visitor.id, pending_det.id, status="pending")
        attended = _past_visit(world, "checked_in", "Amina Benali", "BE111222")
        no_show = _past_visit(world, "no_show", "Omar Benali", "BE333444")
        session().commit()
    headers = api_headers(world.visitor)
    booked = client.post(
        f"{API}/visits/bookings",
        json={
            "slot_id": world.slot_id,
            "detainee": world.rn,
            "companions": [
                {
                    "full_name": "Youssef Benali",
                    "national_id": "BE654321",
                    "birth_date": "1995-03-02",
                }
            ],
        },
        headers=headers,
    )
    assert booked.status_code == 201
    future = booked.json["reference"]

    resp = client.post(
        f"{API}/visitors/me/close", headers=headers, json={"password": TEST_PASSWORD}
    )
    assert resp.status_code == 200, resp.json

    with app.app_context():
        rows = {
            b.reference: b
            for b in session().scalars(
                select(Booking).where(Booking.visitor_id == world.visitor.id)
            )
        }
        # the coming visit is cancelled, its place given back, its details erased
        assert rows[future].status == "cancelled"
        assert session().get(Slot, world.slot_id).booked == 0
        assert rows[future].visitor_name == "—" and rows[future].visitor_national_id == ""
        assert [c.full_name for c in rows[future].companions] == ["—"]
        assert rows[future].companions[0].national_id == ""
        assert rows[future].companions[0].birth_date is None
        # a visit nobody came to: erased; a visit that took place: the gate's record, kept
        assert rows[no_show].visitor_name == "—"
        assert rows[no_show].companions[0].national_id == ""
        assert rows[attended].visitor_name == "Fatima Benali"
        assert rows[attended].companions[0].full_name == "Amina Benali"
        # the pending request is withdrawn; the approved link (the office's decision) is kept
        assert session().get(Relation, pending_id) is None
        kept = list(
            session().scalars(select(Relation).where(Relation.visitor_id == world.visitor.id))
        )
        assert [r.status for r in kept] == ["approved"]
        actions = [e.action for e in session().scalars(select(AuditEvent).order_by(AuditEvent.id))]
    assert "visits.booking.cancelled" in actions
    assert "visits.relation.withdraw" in actions
    assert "visits.booking.anonymise" in actions
    assert actions.index("visits.relation.withdraw") < actions.index("user.account.close")
