"""Issue 10 point 12: a booking form and a walk-in form book once per rendered form
(``core.forms.OnceForm``): sent again, the second answer is the first booking."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from core.db import session
from core.testing import TEST_PASSWORD
from plugins.visits.models import Booking

from .test_visits_pages import _today_booking


def _token_of(html: str) -> str:
    match = re.search(r'<input[^>]*name="form_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<input[^>]*value="([^"]+)"[^>]*name="form_token"', html
    )
    assert match, "the form carries no one-time token"
    return match.group(1)


def _bookings(app) -> int:
    with app.app_context():
        return session().scalar(select(func.count()).select_from(Booking)) or 0


def test_a_resent_booking_form_books_once_and_leads_to_the_booking(app, client, world):
    resp = client.post(
        "/login", data={"username": world.visitor.username, "password": TEST_PASSWORD}
    )
    assert resp.status_code == 302
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    token = _token_of(client.get(f"/visits/book?detainee={world.rn}").get_data(as_text=True))
    data = {"detainee": world.rn, "slot_id": str(world.slot_id), "children": "0"}
    first = client.post("/visits/book", data={**data, "form_token": token})
    assert first.status_code == 302, first.get_data(as_text=True)[:2000]
    second = client.post("/visits/book", data={**data, "form_token": token})
    assert second.status_code == 303
    assert second.headers["Location"] == first.headers["Location"]
    assert "already submitted" in client.get(second.headers["Location"]).get_data(as_text=True)
    assert _bookings(app) == 1


def test_a_resent_walk_in_form_books_once(app, client, world, login_as, factories):
    _ref, day = _today_booking(app, world)
    with app.app_context():
        # another detainee: world's one is already booked into this visiting time
        other = factories.detainee("EST-A", first_name="Omar", first_name_ar="عمر")
        rn = other.registration_number
    login_as("visits_officer", "EST-A")
    sheet = client.get(f"/visits/gate?establishment=EST-A&day={day}").get_data(as_text=True)
    token = _token_of(sheet)
    data = {
        "detainee": rn,
        "visitor_name": "Khadija",
        "visitor_national_id": "BK12345",
        "adults": "1",
        "children": "0",
        "form_token": token,
    }
    before = _bookings(app)
    for _ in range(3):
        resp = client.post(f"/visits/gate/slots/{world.slot_id}/walk-in", data=data)
        assert resp.status_code in (302, 303)
    assert _bookings(app) == before + 1
