"""The visits pages of the demo portal (``demo_app``), as families and staff see them: what the
quality pass over the demo fixed (moved here from the core's crawl, tests/test_crawl.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from core.db import session
from core.identity.models import User
from core.testing import demo_client
from plugins.visits.models import Booking

HREF = re.compile(r'<a\b[^>]*\bhref="([^"]+)"')


def links(body: str) -> list[str]:
    return HREF.findall(body)


@pytest.mark.parametrize("lang", ["ar", "fr"])
def test_visiting_information_is_public(demo_app: Any, lang: str) -> None:
    """A family can read how to visit before having an account."""
    client = demo_app.test_client()
    home = client.get("/", headers={"Accept-Language": lang})
    assert home.status_code == 200
    index = [h for h in links(home.get_data(as_text=True)) if h.rstrip("/") == "/visits"]
    assert index, "the home page links to the visiting information"
    listing = client.get(index[0], headers={"Accept-Language": lang})
    assert listing.status_code == 200, f"{index[0]} needs signing in ({listing.status_code})"
    info = [h for h in links(listing.get_data(as_text=True)) if h.startswith("/visits/info/")]
    assert info, "the visiting information lists the establishments"
    response = client.get(info[0], headers={"Accept-Language": lang})
    assert response.status_code == 200, f"{info[0]} needs signing in ({response.status_code})"
    assert "/login" not in response.headers.get("Location", "")


def test_my_visits_names_the_detainee_in_arabic(demo_app: Any) -> None:
    with demo_app.app_context():
        family = session().scalars(select(User).where(User.username == "family")).one()
        booking = session().scalars(select(Booking).where(Booking.visitor_id == family.id)).first()
        assert booking is not None, "the demo family has a booking"
        name_ar, name = booking.detainee.full_name_ar, booking.detainee.full_name
    client = demo_client(demo_app, "family", "ar")
    body = client.get("/visits/mine", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert name_ar in body and name not in body
    body = client.get("/visits/mine?lang=fr").get_data(as_text=True)
    assert name in body


def test_staff_are_not_offered_a_booking_they_cannot_make(demo_app: Any) -> None:
    """The public information page offered staff a 'Book a visit' button leading to a 403."""
    staff = demo_client(demo_app, "visits", "fr").get("/visits/info/CAS-AS")
    assert 'href="/visits/book"' not in staff.get_data(as_text=True)
    family = demo_client(demo_app, "family", "fr").get("/visits/info/CAS-AS")
    assert 'href="/visits/book"' in family.get_data(as_text=True)
    anonymous = demo_app.test_client().get("/visits/info/CAS-AS").get_data(as_text=True)
    assert 'href="/visits/book"' in anonymous


def test_the_demo_day_can_be_worked_at_every_establishment(demo_app: Any) -> None:
    """Whenever the demo is seeded, every establishment has a visiting time today that has not
    ended, with confirmed visits the gate can check in (wherever the demo holds someone); and
    CAS-AS's office has link requests waiting."""
    from core.db import utcnow
    from core.detainees.models import Detainee
    from core.establishments.models import Establishment
    from plugins.visits.models import Relation, Slot
    from plugins.visits.services import local_date

    with demo_app.app_context():
        now = utcnow()
        today = local_date(now)
        held_at = set(
            session().scalars(
                select(Detainee.establishment_id).where(Detainee.released_at.is_(None))
            )
        )
        for est in session().scalars(select(Establishment).where(Establishment.id.in_(held_at))):
            live = (
                session()
                .scalars(
                    select(Booking)
                    .join(Slot, Slot.id == Booking.slot_id)
                    .where(
                        Booking.establishment_id == est.id,
                        Booking.status == "confirmed",
                        Slot.ends_at > now,
                    )
                )
                .all()
            )
            todays = [b for b in live if local_date(b.slot.starts_at) == today]
            assert todays, est.code  # up to 4 (fewer where the small demo holds fewer)
        cas = session().scalar(select(Establishment).where(Establishment.code == "CAS-AS"))
        cas_today = (
            session()
            .scalars(
                select(Booking.reference)
                .join(Slot, Slot.id == Booking.slot_id)
                .where(Booking.establishment_id == cas.id, Slot.ends_at > now)
            )
            .all()
        )
        pending = session().scalars(select(Relation).where(Relation.status == "pending")).all()
        assert len(pending) >= 3
    officer = demo_client(demo_app, "visits", "fr")
    sheet = officer.get("/visits/gate").get_data(as_text=True)  # CAS-AS, today
    on_sheet = [ref for ref in cas_today if f'id="booking-{ref}"' in sheet]
    assert len(on_sheet) >= 4
    office = officer.get("/visits/office/relations").get_data(as_text=True)
    for relation in pending:
        assert f'id="relation-{relation.id}"' in office
