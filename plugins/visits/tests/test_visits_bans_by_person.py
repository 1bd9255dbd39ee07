"""A ban is by person, not by account (issue 10 point 4).

Two accounts sharing a national id are both banned; a companion is checked by national id at
booking (service, page, API) and at the gate; a family's national id is unique among visitor
accounts (page and API registration), in the database too (a race on PostgreSQL).
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.db import session, utcnow
from core.errors import ValidationFailed
from core.establishments.models import Establishment
from core.identity.models import User
from core.testing import TEST_PASSWORD, Factories
from plugins.visits import services
from plugins.visits.models import Ban, Booking

from .conftest import link

API = "/api/v1"


@pytest.fixture(autouse=True)
def _english(client: Any) -> None:
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


def _user(user_id: int) -> User:
    return session().get(User, user_id)


def _est(est_id: int) -> Establishment:
    return session().get(Establishment, est_id)


def _twin(app: Any, factories: Any, world: Any) -> int:
    """A second visitor account with the first one's national id (an account from before the
    rule, whose number was never in the unique column), linked to the same detainee."""
    with app.app_context():
        twin = factories.visitor(full_name="Fatima B. (second account)")
        session().execute(
            update(User)
            .where(User.id == twin.id)
            .values(national_id=world.visitor.national_id, visitor_national_id=None)
        )
        link(twin.id, world.det_id)
        session().commit()
        return twin.id


def _ban(app: Any, factories: Any, visitor_id: int, est_id: int) -> int:
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A", "EST-B"))
        ban = services.ban_visitor(officer, _user(visitor_id), _est(est_id), "Incident", None)
        session().commit()
        return ban.id


def test_a_ban_bars_every_account_with_the_national_id(app, client, world, factories, api_headers):
    twin_id = _twin(app, factories, world)
    with app.app_context():
        # the twin's booking made before the ban is cancelled by it
        early = services.book(_user(twin_id), world.slot_id, world.rn)
        session().commit()
        early_ref = early.reference
    _ban(app, factories, world.visitor.id, world.est_id)
    with app.app_context():
        assert session().scalar(select(Booking.status).where(Booking.reference == early_ref)) == (
            "cancelled"
        )
        ban = session().scalar(select(Ban))
        assert ban.national_id == world.visitor.national_id
        assert services.ban_in_force(twin_id, world.est_id, services.local_date(utcnow()))
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(twin_id), world.slot_id, world.rn)
        assert err.value.code == "visitor_banned"
    with app.app_context():
        twin = _user(twin_id)
    resp = client.post(
        f"{API}/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": world.rn},
        headers=api_headers(twin),
    )
    assert resp.status_code == 422 and resp.json["error"]["code"] == "visitor_banned"
    # another establishment is not concerned
    with app.app_context():
        assert not services.ban_in_force(twin_id, world.other_id, services.local_date(utcnow()))


def test_a_banned_companion_is_refused_at_booking(app, client, world, factories, api_headers):
    with app.app_context():
        banned = factories.visitor(full_name="Banned Person")
        cin = banned.national_id
    _ban(app, factories, banned.id, world.est_id)
    # the API
    companion = {
        "full_name": "Banned Person",
        "national_id": cin.lower(),
        "birth_date": "1980-01-01",
    }
    resp = client.post(
        f"{API}/visits/bookings",
        json={"slot_id": world.slot_id, "detainee": world.rn, "companions": [companion]},
        headers=api_headers(world.visitor),
    )
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["code"] == "companion_banned"
    assert set(resp.json["error"]["fields"]) == {"companions.0.national_id"}
    # the page: the message sits on the companion's field
    client.post("/login", data={"username": world.visitor.username, "password": TEST_PASSWORD})
    page = client.post(
        "/visits/book",
        data={
            "detainee": world.rn,
            "slot_id": str(world.slot_id),
            "companions-0-full_name": "Banned Person",
            "companions-0-national_id": cin,
            "companions-0-birth_date": "1980-01-01",
        },
    )
    assert page.status_code == 422
    assert "This person may not visit this establishment at the moment." in page.get_data(
        as_text=True
    )
    with app.app_context():
        assert session().scalar(select(func.count()).select_from(Booking)) == 0
        # a companion with another number books; the ban elsewhere does not matter
        ok = services.book(
            _user(world.visitor.id),
            world.slot_id,
            world.rn,
            [services.CompanionIn("Someone Else", "ZZ999999", dt.date(1980, 1, 1))],
        )
        assert ok.status == "confirmed"


def test_a_banned_person_is_refused_at_the_gate(app, client, world, factories, api_headers):
    with app.app_context():
        companion = factories.visitor(full_name="Later Banned")
        cin = companion.national_id
        booking = services.book(
            _user(world.visitor.id),
            world.slot_id,
            world.rn,
            [services.CompanionIn("Later Banned", cin, dt.date(1980, 1, 1))],
        )
        session().commit()
        ref, starts = booking.reference, booking.slot.starts_at
    ban_id = _ban(app, factories, companion.id, world.est_id)
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        with pytest.raises(ValidationFailed) as err:
            services.check_in(officer, ref, now=starts)
        assert err.value.code == "visitor_banned"
        assert "Later Banned" in str(err.value.message)
        assert session().scalar(select(Booking.status).where(Booking.reference == ref)) == (
            "confirmed"
        )
        services.lift_ban(officer, ban_id)
        assert services.check_in(officer, ref, now=starts).status == "checked_in"


def test_the_visitor_of_a_booking_is_checked_by_national_id_at_the_gate(app, world, factories):
    twin_id = _twin(app, factories, world)
    with app.app_context():
        booking = services.book(_user(world.visitor.id), world.slot_id, world.rn)
        session().commit()
        ref, starts = booking.reference, booking.slot.starts_at
        officer = factories.user("visits_officer", ("EST-A",))
        # a ban made on the twin account, written straight into the table (as if the booking's
        # cancellation had been missed): the gate still refuses the person
        session().add(
            Ban(
                visitor_id=twin_id,
                national_id=world.visitor.national_id,
                establishment_id=world.est_id,
                reason="Incident",
            )
        )
        session().flush()
        with pytest.raises(ValidationFailed) as err:
            services.check_in(officer, ref, now=starts)
        assert err.value.code == "visitor_banned"


def test_a_walk_in_with_a_banned_national_id_is_refused(app, world, factories):
    twin_id = _twin(app, factories, world)
    _ban(app, factories, twin_id, world.est_id)
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        slot = services.get_slot(world.slot_id)
        with pytest.raises(ValidationFailed) as err:
            services.walk_in(
                officer,
                slot,
                world.rn,
                "Fatima Benali",
                world.visitor.national_id,
                now=slot.starts_at,
            )
        assert err.value.code == "visitor_banned"


# --- one family account per national id -----------------------------------------------------


def _register_body(**kw: Any) -> dict[str, Any]:
    import uuid

    body = {
        "username": f"famille{uuid.uuid4().hex[:8]}",
        "password": "un-mot-de-passe-long",
        "full_name": "Fatima Zahra Alaoui",
        "national_id": "BE123456",
        "phone": "0612345678",
    }
    body.update(kw)
    return body


def test_a_national_id_registers_one_family_account(app, client):
    first = client.post(f"{API}/visitors/register", json=_register_body(username="firstfamily"))
    assert first.status_code == 201, first.json
    for cin in ("BE123456", "be123456", " BE123456 "):
        again = client.post(f"{API}/visitors/register", json=_register_body(national_id=cin))
        assert again.status_code == 422, again.json
        error = again.json["error"]
        assert error["code"] == "national_id_taken"
        assert set(error["fields"]) == {"national_id"}
        # the answer names no account
        assert "firstfamily" not in str(again.json)
    page = client.post(
        "/register",
        data={
            "username": "secondfamily",
            "password": "un-mot-de-passe-long",
            "confirm": "un-mot-de-passe-long",
            "full_name": "Autre",
            "national_id": "BE123456",
            "phone": "0612345678",
        },
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "already has a family account" in text and "firstfamily" not in text
    with app.app_context():
        assert (
            session().scalar(
                select(func.count()).select_from(User).where(User.national_id == "BE123456")
            )
            == 1
        )


def test_a_staff_account_does_not_hold_a_family_national_id(app, client, factories):
    with app.app_context():
        staff = factories.user("visits_officer", ("EST-A",), national_id="BE777777")
        assert staff.visitor_national_id is None
    resp = client.post(f"{API}/visitors/register", json=_register_body(national_id="BE777777"))
    assert resp.status_code == 201, resp.json


@pytest.mark.concurrency
def test_two_registrations_racing_with_one_national_id(fresh_app):
    """Both pass the read-then-insert check at once; the unique column lets one through and
    the other gets the same 422 as a plain second registration (never a 500)."""
    Factories(fresh_app)  # the roles exist
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def run(i: int) -> None:
        client = fresh_app.test_client()
        body = _register_body(username=f"racer{i}", national_id="RC424242")
        barrier.wait()
        try:
            resp = client.post(f"{API}/visitors/register", json=body)
            results[i] = (resp.status_code, resp.get_json())
        except Exception as exc:  # a crash is a result the test must see
            results[i] = ("exception", repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    codes = sorted(r[0] for r in results)
    assert codes == [201, 422], results
    loser = next(r for r in results if r[0] == 422)
    assert loser[1]["error"]["code"] == "national_id_taken"
    with fresh_app.app_context():
        assert (
            session().scalar(
                select(func.count()).select_from(User).where(User.national_id == "RC424242")
            )
            == 1
        )


# --- the migrations' backfills --------------------------------------------------------------


@pytest.fixture
def app_before_the_rule(tmp_path: Any) -> Any:
    """An app on a database of its own at core 0006 and visits 0004 (before issue 10 point 4)."""

    from core import migrate
    from core.db import get_database
    from core.testing import TestDatabase, build_migrated_app

    database = TestDatabase(tmp_path)
    built = build_migrated_app(database.url, tmp_path)
    try:
        migrate.downgrade_branch(built, "visits", "0004_visits_live_relation_unique")
        migrate.downgrade_branch(built, "core", "0006_sign_in_counters")
        yield built
    finally:
        get_database(built).dispose()
        database.drop()


def test_the_upgrade_keeps_shared_numbers_and_gives_bans_their_number(app_before_the_rule):
    """Two family accounts that shared a number before the rule both survive the upgrade (the
    oldest holds the unique column), a staff account holds none, and an old ban takes its
    account's number, so it bars the other account too."""
    from sqlalchemy import text

    from core import migrate
    from core.db import get_database

    built = app_before_the_rule
    with get_database(built).engine.connect() as conn:
        for i, (name, role) in enumerate(
            (("older", "visitor"), ("newer", "visitor"), ("staffer", "visits_officer")), start=1
        ):
            conn.execute(
                text(
                    "INSERT INTO core_users (id, username, password_hash, full_name, national_id,"
                    " is_active, session_version, created_at)"
                    " VALUES (:id, :name, 'x', :name, 'SH100200', :t, 1, :now)"
                ),
                {"id": 900 + i, "name": name, "t": True, "now": utcnow()},
            )
            known = text("SELECT count(*) FROM core_roles WHERE code = :r")
            if not conn.execute(known, {"r": role}).scalar():
                conn.execute(text("INSERT INTO core_roles (code) VALUES (:r)"), {"r": role})
            conn.execute(
                text("INSERT INTO core_user_roles (user_id, role_code) VALUES (:id, :r)"),
                {"id": 900 + i, "r": role},
            )
        conn.execute(
            text(
                "INSERT INTO core_establishments (id, code, name_fr, name_ar, kind, region, city,"
                " address, capacity, active, created_at) VALUES (900, 'EST-M', 'M', 'M',"
                " 'local_prison', '', '', '', 10, :t, :now)"
            ),
            {"t": True, "now": utcnow()},
        )
        conn.execute(
            text(
                "INSERT INTO visits_bans (visitor_id, establishment_id, reason, created_at)"
                " VALUES (902, 900, 'Incident', :now)"
            ),
            {"now": utcnow()},
        )
        conn.commit()
    migrate.upgrade(built)
    assert migrate.check(built) == []
    with built.app_context():
        rows = dict(
            session()
            .execute(text("SELECT username, visitor_national_id FROM core_users WHERE id > 900"))
            .all()
        )
        assert rows == {"older": "SH100200", "newer": None, "staffer": None}
        assert session().scalar(text("SELECT national_id FROM visits_bans")) == "SH100200"
        today = services.local_date(utcnow())
        assert services.ban_in_force(901, 900, today)
        assert services.ban_in_force(902, 900, today)
