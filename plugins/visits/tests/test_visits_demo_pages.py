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
