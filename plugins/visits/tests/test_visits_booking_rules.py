"""Issue 10 point 6: the page and the API book by the same rules, and one relative cannot use
up a detainee's whole weekly quota (a per-visitor share). Point 5: a walk-in cannot double a
detainee's live booking in a slot. (A family's paged list: test_visits_my_bookings.py.)"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select

from core.db import session, utcnow
from core.errors import Conflict, ValidationFailed
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.visits import services
from plugins.visits.models import Booking, Slot, VisitRules

from .conftest import link, make_slot

API = "/api/v1"


def _est(est_id):
    from core.establishments.models import Establishment

    return session().get(Establishment, est_id)


def _user(user):
    from core.identity.models import User

    return session().get(User, user.id)


def week_slots(est, n, *, days_ahead=3):
    """``n`` slots on one local day of one week, at least ``days_ahead`` days from now."""
    base = (utcnow() + dt.timedelta(days=days_ahead)).replace(second=0, microsecond=0)
    monday = services.week_start(base) + dt.timedelta(days=7)
    first = services.local_moment(monday, "08:00")
    return [
        services.create_slot(
            SYSTEM,
            est,
            first + dt.timedelta(hours=i),
            first + dt.timedelta(hours=i, minutes=45),
            5,
        )
        for i in range(n)
    ]


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


# --- the per-visitor share of a detainee's weekly quota ----------------------------------------


def test_one_relative_cannot_use_up_the_weekly_quota(app, world, factories):
    with app.app_context():
        est = _est(world.est_id)
        services.update_rules(SYSTEM, est, {"quota_pretrial": 3, "max_weekly_per_visitor": 1})
        a, b, c = week_slots(est, 3)
        other = factories.visitor(full_name="Omar Benali")
        link(other.id, world.det_id)
        visitor = _user(world.visitor)
        first = services.book(visitor, a.id, world.rn)
        session().commit()
        # the same relative again, the same week: refused, the slot untouched
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, b.id, world.rn)
        assert err.value.code == "visitor_share_reached"
        assert "slot_id" in err.value.fields
        session().rollback()
        # the slot the share blocks is not offered to this relative, still to the other one
        visitor = _user(world.visitor)
        offered = {s.id for s in services.bookable_slots(visitor, first.detainee)}
        assert b.id not in offered and c.id not in offered
        assert b.id in {s.id for s in services.bookable_slots(_user(other), first.detainee)}
        # another relative still can
        assert services.book(_user(other), b.id, world.rn).status == "confirmed"
        # a cancelled visit gives the share back
        services.cancel_booking(visitor, first)
        assert services.book(visitor, c.id, world.rn).status == "confirmed"


def test_no_share_by_default(app, world):
    with app.app_context():
        est = _est(world.est_id)
        assert services.get_rules(est.id).max_weekly_per_visitor is None
        a, b = week_slots(est, 2)  # pretrial quota: 2 a week
        visitor = _user(world.visitor)
        services.book(visitor, a.id, world.rn)
        assert services.book(visitor, b.id, world.rn).status == "confirmed"


def test_share_is_per_week(app, world):
    with app.app_context():
        est = _est(world.est_id)
        # the next week's slot is 10–18 days ahead (the Monday after the week of "now + 10
        # days", local time): booking opens four weeks ahead here, not two
        services.update_rules(SYSTEM, est, {"max_weekly_per_visitor": 1, "window_open_days": 28})
        (this_week,) = week_slots(est, 1)
        (next_week,) = week_slots(est, 1, days_ahead=10)
        assert services.week_start(this_week.starts_at) != services.week_start(next_week.starts_at)
        visitor = _user(world.visitor)
        services.book(visitor, this_week.id, world.rn)
        assert services.book(visitor, next_week.id, world.rn).status == "confirmed"


def test_walk_ins_are_not_limited_by_the_share_but_count_in_it(app, world, factories):
    """The gate officer decides at the gate; a walk-in of a known account uses its share."""
    with app.app_context():
        est = _est(world.est_id)
        services.update_rules(SYSTEM, est, {"quota_pretrial": 3, "max_weekly_per_visitor": 1})
        officer = factories.user("visits_officer", ("EST-A",))
        visitor = _user(world.visitor)
        today = make_slot(est, days=0.01, capacity=3)
        week = services.week_start(today.starts_at)
        services.walk_in(
            officer,
            today,
            world.rn,
            visitor.full_name,
            visitor.national_id,
            1,
            0,
            now=today.starts_at,
        )
        assert services.visitor_share_used(visitor.id, world.det_id, week) == 1
        # a second walk-in of that account, same week, another slot: the share does not stop it
        later_today = services.create_slot(
            SYSTEM, est, today.ends_at, today.ends_at + dt.timedelta(minutes=30), 2
        )
        if services.local_date(later_today.starts_at) == services.local_date(today.starts_at):
            services.walk_in(
                officer,
                later_today,
                world.rn,
                visitor.full_name,
                visitor.national_id,
                1,
                0,
                now=today.starts_at,
            )
            assert services.visitor_share_used(visitor.id, world.det_id, week) == 2


@pytest.mark.parametrize(
    "raw,error",
    [
        ("0", True),
        ("15", True),
        ("-1", True),
        ("99999999999999999999999", True),
        ("1\x00", True),
        ("1\r\n2", True),
        ("x", True),
        ("", False),
        ("2", False),
    ],
)
def test_rules_page_edits_the_share(app, client, world, login_as, raw, error):
    login_as("visits_officer", "EST-A")
    with app.app_context():
        est = _est(world.est_id)
        code = est.code
        rules = services.get_rules(est.id)
        data = {
            name: str(getattr(rules, name))
            for name in (
                "max_adults",
                "max_children",
                "adult_age",
                "window_open_days",
                "window_close_hours",
                "cancel_deadline_hours",
                "quota_pretrial",
                "quota_convicted",
            )
        }
    data["max_weekly_per_visitor"] = raw
    resp = client.post(f"/visits/office/{code}/rules", data=data)
    with app.app_context():
        saved = session().scalar(
            select(VisitRules.max_weekly_per_visitor).where(
                VisitRules.establishment_id == world.est_id
            )
        )
    if error:
        assert resp.status_code == 422, resp.data[:500]
        assert "has-error" in resp.get_data(as_text=True)
        assert saved is None
    else:
        assert resp.status_code == 302
        assert saved == (int(raw) if raw else None)


def test_share_error_is_translated(app, client, world, api_headers):
    with app.app_context():
        est = _est(world.est_id)
        services.update_rules(SYSTEM, est, {"quota_pretrial": 3, "max_weekly_per_visitor": 1})
        a, b = week_slots(est, 2)
        session().commit()
        a_id, b_id = a.id, b.id
    headers = api_headers(world.visitor)
    body = {"slot_id": a_id, "detainee": world.rn}
    assert client.post(f"{API}/visits/bookings", json=body, headers=headers).status_code == 201
    messages = set()
    for lang in ("ar", "fr", "en"):
        resp = client.post(
            f"{API}/visits/bookings",
            json={"slot_id": b_id, "detainee": world.rn},
            headers={**headers, "Accept-Language": lang},
        )
        assert resp.status_code == 422
        assert resp.json["error"]["code"] == "visitor_share_reached"
        messages.add(resp.json["error"]["message"])
    assert len(messages) == 3
    with app.app_context():
        assert session().get(Slot, b_id).booked == 0


# --- the page and the API book by the same rules ------------------------------------------------


def _years_ago(years: int, slot_start: dt.datetime) -> str:
    day = services.local_date(slot_start)
    return day.replace(year=day.year - years).isoformat()


PARTY = [("Youssef Benali", "BE654321", 40), ("Amine Benali", "", 10)]


def _party_on_page(slot_start):
    data = {}
    for i, (name, cin, age) in enumerate(PARTY):
        data[f"companions-{i}-full_name"] = name
        data[f"companions-{i}-national_id"] = cin
        data[f"companions-{i}-birth_date"] = _years_ago(age, slot_start)
    return data


def _party_in_api(slot_start):
    return [
        {"full_name": name, "national_id": cin or None, "birth_date": _years_ago(age, slot_start)}
        for name, cin, age in PARTY
    ]


def _book_both_ways(app, client, world, factories, api_headers):
    """The same party (an adult with a CIN, a child of ten without one) booked by one family on
    the page and by another through the API, each for a detainee of its own."""
    with app.app_context():
        det2 = factories.detainee("EST-A", legal_status="pretrial")
        api_family = factories.visitor(full_name="Nadia Alaoui")
        link(api_family.id, det2.id)
        slot = session().get(Slot, world.slot_id)
        start = slot.starts_at
        session().commit()
        rn2 = det2.registration_number
    _login(client, world.visitor)
    page = client.post(
        "/visits/book?lang=en",
        data={"detainee": world.rn, "slot_id": str(world.slot_id), **_party_on_page(start)},
    )
    api = client.post(
        f"{API}/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": rn2, "companions": _party_in_api(start)},
        headers=api_headers(api_family),
    )
    return page, api


def test_page_and_api_count_adults_and_children_alike(app, client, world, factories, api_headers):
    page, api = _book_both_ways(app, client, world, factories, api_headers)
    assert api.status_code == 201, api.json
    assert page.status_code == 302, page.get_data(as_text=True)[:3000]
    with app.app_context():
        rows = session().scalars(select(Booking).order_by(Booking.id)).all()
        assert [(b.adults, b.children) for b in rows] == [(2, 1), (2, 1)]
        assert [[c.is_adult for c in b.companions] for b in rows] == [[True, False]] * 2
    assert (api.json["adults"], api.json["children"]) == (2, 1)


def test_page_and_api_refuse_too_many_children_alike(app, client, world, factories, api_headers):
    with app.app_context():
        services.update_rules(SYSTEM, _est(world.est_id), {"max_children": 0})
        session().commit()
    page, api = _book_both_ways(app, client, world, factories, api_headers)
    assert api.status_code == 422 and api.json["error"]["code"] == "too_many_visitors"
    assert page.status_code == 422
    assert "Too many visitors" in page.get_data(as_text=True)
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Booking)) == 0


def test_page_asks_a_companions_birth_date_like_the_api(app, client, world, api_headers):
    _login(client, world.visitor)
    page = client.post(
        "/visits/book",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Youssef Benali",
            "companions-0-national_id": "BE654321",
        },
    )
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert re.search(r'id="companions-0-birth_date-error"', html), html[:3000]
    api = client.post(
        f"{API}/visits/bookings",
        json={
            "slot_id": world.slot_id,
            "detainee": world.rn,
            "companions": [{"full_name": "Youssef Benali", "national_id": "BE654321"}],
        },
        headers=api_headers(world.visitor),
    )
    assert api.status_code == 422
    with app.app_context():
        assert session().get(Slot, world.slot_id).booked == 0


@pytest.mark.parametrize(
    "field,value",
    [
        ("birth_date", "9999-12-31"),
        ("birth_date", "0001-01-01"),
        ("birth_date", "99999999999999999999-01-01"),
        ("birth_date", "2000-02-30"),
        ("birth_date", "2000-01-01\x00"),
        ("birth_date", "2000-01-01\r\n"),
        ("full_name", "Youssef\x00Benali"),
        ("full_name", "Youssef\r\nBenali"),
        ("full_name", "Y" * 201),
        ("national_id", "BE65\x004321"),
        ("national_id", "BE654321\r\nX"),
    ],
)
def test_booking_page_bad_companion_input(app, client, world, field, value):
    _login(client, world.visitor)
    data = {
        "detainee": world.rn,
        "slot_id": str(world.slot_id),
        "companions-0-full_name": "Youssef Benali",
        "companions-0-national_id": "BE654321",
        "companions-0-birth_date": "1980-01-01",
        f"companions-0-{field}": value,
    }
    resp = client.post("/visits/book", data=data)
    assert resp.status_code == 422, resp.get_data(as_text=True)[:2000]
    assert f'id="companions-0-{field}-error"' in resp.get_data(as_text=True)
    with app.app_context():
        assert session().get(Slot, world.slot_id).booked == 0


def test_booking_page_ignores_rows_past_the_limit(app, client, world):
    _login(client, world.visitor)
    data = {"detainee": world.rn, "slot_id": str(world.slot_id)}
    for i in (0, 99999999999999999999):
        data[f"companions-{i}-full_name"] = f"Person {i}"
        data[f"companions-{i}-national_id"] = "BE654321"
        data[f"companions-{i}-birth_date"] = "1980-01-01"
    resp = client.post("/visits/book", data=data)
    assert resp.status_code in (302, 422)
    with app.app_context():
        assert session().get(Slot, world.slot_id).booked in (0, 1)


# --- point 5: a walk-in cannot double a detainee's live visit in a session ----------------------


def _today_slot(est, capacity=5):
    later = utcnow() + dt.timedelta(days=1)
    slot = services.create_slot(SYSTEM, est, later, later + dt.timedelta(hours=1), capacity)
    slot.starts_at = utcnow() - dt.timedelta(minutes=1)
    slot.ends_at = utcnow() + dt.timedelta(minutes=60)
    session().flush()
    return slot


def test_walk_in_for_a_detainee_already_booked_in_the_session_is_refused(app, world, factories):
    with app.app_context():
        est = _est(world.est_id)
        officer = factories.user("visits_officer", ("EST-A",))
        slot = _today_slot(est)
        from core.detainees.services import get_detainee

        booked = services._create_booking(
            slot=slot,
            detainee=get_detainee(world.rn, SYSTEM),
            visitor=_user(world.visitor),
            visitor_name="Fatima Benali",
            visitor_national_id="BE1",
            party=services.Party(1, 0),
            rules=services.get_rules(est.id),
            status="confirmed",
            actor=SYSTEM,
        )
        session().commit()
        with pytest.raises(Conflict) as err:
            services.walk_in(officer, slot, world.rn, "Khadija", "BK12345", 1, 0)
        assert err.value.code == "already_booked"
        session().rollback()
        assert session().get(Slot, slot.id).booked == 1
        # once that visit is over (or cancelled), a walk-in for the detainee is taken
        services.cancel_booking(
            officer,
            session().get(Booking, booked.id),
            "family gone",
            now=slot.starts_at - dt.timedelta(minutes=5),
        )
        walk = services.walk_in(officer, slot, world.rn, "Khadija", "BK12345", 1, 0)
        assert walk.status == "checked_in"
        # and a second walk-in for the same detainee in that session is refused too
        with pytest.raises(Conflict):
            services.walk_in(officer, slot, world.rn, "Autre", "BK54321", 1, 0)


def test_walk_in_page_bad_input(app, client, world, login_as):
    with app.app_context():
        slot = _today_slot(_est(world.est_id))
        session().commit()
        slot_id = slot.id
    login_as("visits_officer", "EST-A")
    for field, value in [
        ("visitor_name", "Kha\x00dija"),
        ("visitor_name", "Kha\r\ndija"),
        ("visitor_national_id", "BK1\x002345"),
        ("detainee", "2026-\x00000001"),
        ("detainee", "2026-\r\n000001"),
        ("adults", "99999999999999999999999"),
        ("children", "-1"),
    ]:
        data = {
            "detainee": world.rn,
            "visitor_name": "Khadija",
            "visitor_national_id": "BK12345",
            "adults": "1",
            "children": "0",
            field: value,
        }
        resp = client.post(f"/visits/gate/slots/{slot_id}/walk-in", data=data)
        assert resp.status_code == 302, (field, value)
        with app.app_context():
            assert session().get(Slot, slot_id).booked == 0, (field, value)


@pytest.mark.parametrize(
    "companion,status,field",
    [
        ({"birth_date": "9999-12-31"}, 422, "companions.0.birth_date"),
        ({"birth_date": "0001-01-01"}, 422, "companions.0.birth_date"),
        ({"birth_date": "99999999999999999999-01-01"}, 422, None),
        ({"full_name": "Youssef\r\nBenali"}, 422, "companions.0.full_name"),
        ({"full_name": "Youssef\x00Benali"}, 400, None),
        ({"national_id": "BE65\r\n4321"}, 422, "companions.0.national_id"),
    ],
)
def test_booking_api_bad_companion_input(client, world, api_headers, companion, status, field):
    body = {
        "slot_id": world.slot_id,
        "detainee": world.rn,
        "companions": [
            {
                "full_name": "Youssef Benali",
                "national_id": "BE654321",
                "birth_date": "1980-01-01",
                **companion,
            }
        ],
    }
    resp = client.post(f"{API}/visits/bookings", json=body, headers=api_headers(world.visitor))
    assert resp.status_code == status, resp.json
    if field:
        assert field in resp.json["error"]["fields"], resp.json
    with client.application.app_context():
        assert session().get(Slot, world.slot_id).booked == 0
