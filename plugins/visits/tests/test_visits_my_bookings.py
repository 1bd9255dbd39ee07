"""Issue 10 point 6: a family's list of bookings is complete and paged in SQL (it stopped at
200), on the page and in the API, with bad paging input answered cleanly."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from core.db import session, utcnow
from plugins.visits import services
from plugins.visits.models import Booking, Slot

from .test_visits_booking_rules import API, _est, _login

# --- a family's list: every booking, paged ------------------------------------------------------


def _many_bookings(app, world, n_past, n_upcoming=0):
    """``n_past`` finished and ``n_upcoming`` coming bookings of the family, straight into the
    tables (one slot each), newest past first by id."""
    with app.app_context():
        est = _est(world.est_id)
        now = utcnow().replace(second=0, microsecond=0)
        refs = []
        for i in range(n_past + n_upcoming):
            start = (
                now - dt.timedelta(days=1 + i)
                if i < n_past
                else now + dt.timedelta(days=3, hours=i - n_past)
            )
            slot = Slot(
                establishment_id=est.id,
                starts_at=start,
                ends_at=start + dt.timedelta(minutes=30),
                capacity=5,
                booked=0,
            )
            session().add(slot)
            session().flush()
            ref = f"P{i:07d}"
            session().add(
                Booking(
                    reference=ref,
                    slot_id=slot.id,
                    establishment_id=est.id,
                    detainee_id=world.det_id,
                    visitor_id=world.visitor.id,
                    visitor_name="Fatima Benali",
                    week_start=services.week_start(start),
                    status="completed" if i < n_past else "confirmed",
                )
            )
            refs.append(ref)
        session().commit()
        return refs


def test_my_bookings_returns_every_booking_paged(app, client, world, api_headers):
    refs = _many_bookings(app, world, 250)
    headers = api_headers(world.visitor)
    seen = []
    for page in (1, 2, 3):
        resp = client.get(f"{API}/visitors/me/bookings?page={page}&per_page=100", headers=headers)
        assert resp.status_code == 200, resp.json
        assert resp.json["total"] == 250
        seen += [item["reference"] for item in resp.json["items"]]
    # newest first, each once: the 250th (the oldest) too
    assert seen == refs
    past_end = client.get(f"{API}/visitors/me/bookings?page=4&per_page=100", headers=headers)
    assert past_end.json["items"] == [] and past_end.json["total"] == 250
    # the other family sees none of them
    other = client.get(f"{API}/visitors/me/bookings", headers=api_headers(world.stranger))
    assert other.json["total"] == 0


def test_my_visits_page_shows_every_booking_paged(app, client, world):
    refs = _many_bookings(app, world, 230, n_upcoming=25)
    _login(client, world.visitor)
    seen_past, page = [], 1
    while True:
        html = client.get(f"/visits/mine?page={page}").get_data(as_text=True)
        past = html[html.index('id="past"') :]
        seen_past += re.findall(r">(P\d{7})</a>", past)
        if 'rel="next"' not in past:
            break
        page += 1
    assert seen_past == refs[:230]
    first = client.get("/visits/mine").get_data(as_text=True)
    upcoming = first[first.index('id="upcoming"') : first.index('id="past"')]
    assert len(re.findall(r"(P\d{7})</span>", upcoming)) == 20
    second = client.get("/visits/mine?upcoming_page=2").get_data(as_text=True)
    assert len(re.findall(r"(P\d{7})</span>", second[: second.index('id="past"')])) == 5


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999999",
        "page=-1",
        "page=0",
        "page=1%00",
        "page=1%0D%0A2",
        "page=%D9%A1",
        "per_page=100000000000000",
        "per_page=0",
        "per_page=5%00",
    ],
)
def test_my_bookings_bad_paging(app, client, world, api_headers, query):
    resp = client.get(f"{API}/visitors/me/bookings?{query}", headers=api_headers(world.visitor))
    assert resp.status_code == 400, resp.json
    assert resp.json["error"]["code"] == "bad_query"


@pytest.mark.parametrize(
    "query",
    [
        "page=99999999999999999999999",
        "page=-1",
        "page=1%00",
        "page=1%0D%0A2",
        "upcoming_page=99999999999999999999999",
        "upcoming_page=x%00",
        "upcoming_page=%0D%0A",
    ],
)
def test_my_visits_page_bad_paging(app, client, world, query):
    _many_bookings(app, world, 3, n_upcoming=1)
    _login(client, world.visitor)
    resp = client.get(f"/visits/mine?{query}")
    assert resp.status_code == 200
