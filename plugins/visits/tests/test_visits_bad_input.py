"""Issue 10 point 10 for the visits module: its pages and endpoints, walked from the url_map
with real references, answer bad query strings without a 500; every date it accepts (slots,
blocked dates, sessions, bans, relations, companions) refuses extreme values with a 4xx tied
to the field, and its forms refuse NUL."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from core.db import session
from core.testing import TEST_PASSWORD
from core.testing_bad_input import (
    BAD_BODY_DATES,
    BAD_BODY_TIMESTAMPS,
    BAD_TEXTS,
    get_routes,
    post_values,
    walk_queries,
)
from plugins.visits.models import Ban, BlockedDate, SessionTemplate, Slot

from .test_visits_pages import _today_booking


def _login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": TEST_PASSWORD})
    assert resp.status_code == 302


def _counts(app):
    with app.app_context():
        return tuple(
            session().scalar(select(func.count()).select_from(m)) or 0
            for m in (Slot, BlockedDate, SessionTemplate, Ban)
        )


def test_visits_pages_with_real_references_answer_bad_queries(
    monkeypatch, app, client, world, factories, api_headers
):
    monkeypatch.setitem(app.config, "PROPAGATE_UNEXPECTED", False)  # list every 500
    ref, _day = _today_booking(app, world)
    variables = {
        "reference": ref,
        "slot_id": world.slot_id,
        "code": "EST-A",
        "rn": world.rn,
        "registration_number": world.rn,
    }
    with app.app_context():
        officer = factories.user(("visits_officer", "director"), ("EST-A",))
    # the family's pages, as the family
    _login(client, world.visitor)
    family = get_routes(
        app,
        blueprints=["visits", "visits_api"],
        variables=variables,
        prefixes=[
            "/visits/mine",
            "/visits/book",
            "/visits/relatives",
            "/visits/qr",
            "/api/v1/visitors",
        ],
    )
    assert "/visits/mine" in family and f"/visits/mine/{ref}" in family
    failures = walk_queries(client, family, headers=api_headers(world.visitor))
    assert not failures, "\n".join(map(str, failures))
    # the pages of one booking or slot, as an officer (the office's other pages are walked by
    # the core's test, tests/test_bad_input_everywhere.py, as staff holding visits_officer)
    client.post("/logout")
    _login(client, officer)
    paths = get_routes(
        app,
        blueprints=["visits", "visits_api"],
        variables=variables,
        only_with=["reference", "slot_id"],
    )
    assert f"/api/v1/visits/bookings/{ref}" in paths
    failures = walk_queries(client, paths, headers=api_headers(officer))
    assert not failures, "\n".join(map(str, failures))


def _api(client, headers, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json", headers=headers)


def test_slot_api_refuses_timestamps_out_of_range(app, client, world, factories, api_headers):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    headers = api_headers(officer)
    good = {
        "establishment": "EST-A",
        "starts_at": "2030-01-07T09:00:00+01:00",
        "ends_at": "2030-01-07T10:00:00+01:00",
        "capacity": 5,
    }
    before = _counts(app)
    failures = post_values(
        lambda body: _api(client, headers, "/api/v1/visits/slots", body),
        good,
        {"starts_at": BAD_BODY_TIMESTAMPS, "ends_at": BAD_BODY_TIMESTAMPS},
    )
    assert failures == []
    resp = _api(
        client, headers, "/api/v1/visits/slots", {**good, "ends_at": BAD_BODY_TIMESTAMPS[0]}
    )
    assert resp.status_code == 422 and "ends_at" in resp.json["error"]["fields"]
    assert _counts(app) == before


def test_ban_api_refuses_an_end_out_of_range(app, client, world, factories, api_headers):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
    headers = api_headers(officer)
    good = {"visitor_national_id": "BE100001", "establishment": "EST-A", "reason": "x"}
    failures = post_values(
        lambda body: _api(client, headers, "/api/v1/visits/bans", body),
        good,
        {"ends_on": BAD_BODY_DATES, "reason": BAD_TEXTS},
    )
    assert failures == []


def test_relation_and_booking_api_refuse_birth_dates_out_of_range(app, client, world, api_headers):
    headers = api_headers(world.visitor)
    relation = {"detainee": world.rn, "relationship": "parent", "detainee_birth_date": "1990-01-01"}
    assert (
        post_values(
            lambda body: _api(client, headers, "/api/v1/visitors/me/relations", body),
            relation,
            {"detainee_birth_date": BAD_BODY_DATES},
        )
        == []
    )
    booking = {"slot_id": world.slot_id, "detainee": world.rn}
    companions = [
        [{"full_name": "Youssef", "national_id": "BE1", "birth_date": day}]
        for day in BAD_BODY_DATES
    ]
    assert (
        post_values(
            lambda body: _api(client, headers, "/api/v1/visits/bookings", body),
            booking,
            {"companions": companions},
        )
        == []
    )
    resp = _api(
        client,
        headers,
        "/api/v1/visits/bookings",
        {**booking, "companions": companions[0]},
    )
    assert resp.status_code == 422 and "companions.0.birth_date" in resp.json["error"]["fields"]


def test_office_forms_refuse_extreme_dates_and_nul(app, client, world, login_as):
    login_as("visits_officer", "EST-A")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    before = _counts(app)
    block = post_values(
        lambda data: client.post("/visits/office/EST-A/slots", data=data),
        {"day": "2031-05-05", "reason": "Fête"},
        {"day": BAD_BODY_DATES, "reason": BAD_TEXTS},
    )
    assert block == []
    sessions = post_values(
        lambda data: client.post("/visits/office/EST-A/sessions", data=data),
        {
            "weekday": "2",
            "start_time": "09:00",
            "end_time": "10:30",
            "capacity": "8",
            "capacity_supervised": "0",
        },
        {"valid_from": BAD_BODY_DATES, "valid_to": BAD_BODY_DATES, "start_time": BAD_TEXTS},
    )
    assert sessions == []
    bans = post_values(
        lambda data: client.post("/visits/office/bans", data=data),
        {"visitor": world.visitor.national_id, "establishment": "EST-A", "reason": "x"},
        {"ends_on": BAD_BODY_DATES, "reason": BAD_TEXTS, "visitor": BAD_TEXTS},
    )
    assert bans == []
    resp = client.post("/visits/office/EST-A/slots", data={"day": "9999-12-31", "reason": "x"})
    assert resp.status_code == 422
    assert "between 1900-01-01 and 2999-12-31" in resp.get_data(as_text=True)
    assert _counts(app) == before


def test_family_forms_refuse_extreme_dates_and_nul(app, client, world):
    _login(client, world.visitor)
    relation = post_values(
        lambda data: client.post("/visits/relatives", data=data),
        {"detainee": world.rn, "relationship": "parent", "detainee_birth_date": "1990-01-01"},
        {"detainee_birth_date": BAD_BODY_DATES, "detainee": BAD_TEXTS},
    )
    assert relation == []
    booking = post_values(
        lambda data: client.post("/visits/book", data=data),
        {"detainee": world.rn, "slot_id": str(world.slot_id), "children": "0"},
        {"companions-0-full_name": BAD_TEXTS, "companions-0-national_id": BAD_TEXTS},
    )
    assert booking == []


def test_walk_in_refuses_nul(app, client, world, login_as):
    _ref, _day = _today_booking(app, world)
    login_as("visits_officer", "EST-A")
    good = {
        "detainee": world.rn,
        "visitor_name": "Khadija",
        "visitor_national_id": "BK12345",
        "adults": "1",
        "children": "0",
    }
    from plugins.visits.models import Booking

    with app.app_context():
        before = session().scalar(select(func.count()).select_from(Booking))
    for field in ("visitor_name", "visitor_national_id", "detainee"):
        for value in BAD_TEXTS:
            resp = client.post(
                f"/visits/gate/slots/{world.slot_id}/walk-in", data={**good, field: value}
            )
            assert resp.status_code in (302, 303)
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Booking)) == before


HUGE_NUMBERS = ("9" * 30, str(2**31), str(-(2**63)), "99999999999")


def test_office_forms_refuse_numbers_beyond_the_database(app, client, world, login_as):
    login_as("visits_officer", "EST-A")
    before = _counts(app)
    sessions = post_values(
        lambda data: client.post("/visits/office/EST-A/sessions", data=data),
        {
            "weekday": "2",
            "start_time": "09:00",
            "end_time": "10:30",
            "capacity": "8",
            "capacity_supervised": "0",
        },
        {"capacity": HUGE_NUMBERS, "capacity_supervised": HUGE_NUMBERS},
    )
    assert sessions == []
    rules = client.get("/visits/office/EST-A/rules")
    assert rules.status_code == 200
    good_rules = {
        "max_adults": "2",
        "max_children": "3",
        "adult_age": "18",
        "window_open_days": "14",
        "window_close_hours": "24",
        "cancel_deadline_hours": "24",
        "quota_pretrial": "2",
        "quota_convicted": "1",
    }
    assert (
        post_values(
            lambda data: client.post("/visits/office/EST-A/rules", data=data),
            good_rules,
            {name: HUGE_NUMBERS for name in good_rules},
        )
        == []
    )
    for days in HUGE_NUMBERS:
        resp = client.post("/visits/office/EST-A/generate", data={"days": days})
        assert resp.status_code < 500
    assert _counts(app)[:3] == before[:3]
