"""The rules of the visits module, at the service level."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from core.config import TIMEZONE
from core.db import session, utcnow
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.i18n import local_zone
from core.notifications.models import OutboxMessage
from core.principals import SYSTEM
from plugins.visits import services
from plugins.visits.models import Booking, BookingStatus, Relation, Slot
from plugins.visits.services import TRANSITIONS, CompanionIn

from .conftest import link, make_slot


def _est(est_id):
    from core.establishments.models import Establishment

    return session().get(Establishment, est_id)


def _slot(slot_id):
    return session().get(Slot, slot_id)


def _booking(ref):
    return session().scalar(select(Booking).where(Booking.reference == ref))


def _user(user):
    from core.identity.models import User

    return session().get(User, user.id)


def _outbox(kind):
    return list(session().scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


# --- the state machine ------------------------------------------------------------------------


def test_state_machine_is_one_dict_with_terminal_states():
    assert set(TRANSITIONS) == {
        "confirmed",
        "checked_in",
        "cancelled",
        "no_show",
        "completed",
        "visitor_refused",
        "detainee_refused",
        "ended_early",
    }
    for target in set().union(*TRANSITIONS.values()):
        assert target in TRANSITIONS
    assert TRANSITIONS["confirmed"] == {"cancelled", "checked_in", "no_show", "visitor_refused"}
    assert TRANSITIONS["checked_in"] == {
        "completed",
        "visitor_refused",
        "detainee_refused",
        "ended_early",
    }
    for terminal in ("cancelled", "no_show", "completed", "detainee_refused", "ended_early"):
        assert TRANSITIONS[terminal] == frozenset()


@pytest.mark.parametrize(
    "start,target,allowed",
    [
        (s, t, t in TRANSITIONS[s])
        for s in TRANSITIONS
        for t in TRANSITIONS
        if s != t and s in ("confirmed", "checked_in", "completed", "cancelled")
    ],
)
def test_transition_follows_the_dict(app, world, factories, start, target, allowed):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        session().execute(Booking.__table__.update().where(Booking.id == b.id).values(status=start))
        session().expire(b)
        if allowed:
            services._transition(b, target, officer, "reason")
            assert _booking(b.reference).status == target
        else:
            with pytest.raises(Conflict) as err:
                services._transition(b, target, officer, "reason")
            assert err.value.code == "invalid_transition"


# --- rules and slots ------------------------------------------------------------------------


def test_rules_default_then_updated_and_audited(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        est = _est(world.est_id)
        assert services.get_rules(est.id).max_adults == 3
        services.update_rules(officer, est, {"max_adults": "2", "conditions_fr": "CIN"})
        session().commit()
        rules = services.get_rules(est.id)
        assert rules.max_adults == 2 and rules.conditions_fr == "CIN"
        with pytest.raises(ValidationFailed) as err:
            services.update_rules(officer, est, {"max_adults": "0", "adult_age": "x"})
        assert set(err.value.fields) == {"max_adults", "adult_age"}


def test_rules_of_another_establishment_are_not_found(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-B",))
        with pytest.raises(NotFound):
            services.update_rules(officer, _est(world.est_id), {"max_adults": 2})
        clerk = factories.user("registry_clerk", ("EST-A",))
        with pytest.raises(Forbidden):
            services.update_rules(clerk, _est(world.est_id), {"max_adults": 2})


def test_templates_generate_slots_idempotently_and_skip_blocked_days(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        est = _est(world.est_id)
        monday = services.local_date(utcnow()) + dt.timedelta(days=7)
        monday -= dt.timedelta(days=monday.weekday())
        services.add_template(
            officer,
            est,
            {
                "weekday": 0,
                "start_time": "09:00",
                "end_time": "10:00",
                "capacity": 10,
                "capacity_supervised": 2,
                "valid_from": monday.isoformat(),
            },
        )
        services.block_date(officer, est, (monday + dt.timedelta(days=7)).isoformat(), "Aïd")
        made = services.generate_slots(officer, est, monday, 21)
        assert made == 4  # 2 Mondays (one blocked) × ordinary + supervised
        assert services.generate_slots(officer, est, monday, 21) == 0
        slots = [s for s in services.list_slots(est.id) if s.template_id is not None]
        assert {(s.kind, s.capacity) for s in slots} == {("ordinary", 10), ("supervised", 2)}
        assert slots[0].starts_at.astimezone(local_zone()).strftime("%H:%M") == "09:00"


def test_local_times_come_from_the_configured_zone(_session_app, make_app):
    """09:00 at the prison is 00:00 UTC when the app is configured for Tokyo (UTC+9 all year)."""
    from core.establishments.services import create_establishment

    monday = dt.date(2027, 1, 4)
    with _session_app.app_context():
        assert services.local_moment(monday, "09:00") == dt.datetime.combine(
            monday, dt.time(9, 0), tzinfo=ZoneInfo(TIMEZONE)
        )
    tokyo = make_app(BABEL_DEFAULT_TIMEZONE="Asia/Tokyo")
    with tokyo.app_context():
        try:
            est = create_establishment(
                code="EST-TZ",
                name="Prison locale TZ",
                kind="local_prison",
                capacity=10,
                actor=SYSTEM,
            )
            services.add_template(
                SYSTEM,
                est,
                {
                    "weekday": 0,
                    "start_time": "09:00",
                    "end_time": "10:00",
                    "capacity": 5,
                    "valid_from": monday.isoformat(),
                },
            )
            assert services.generate_slots(SYSTEM, est, monday, 7) == 1
            (slot,) = services.list_slots(est.id)
            assert slot.starts_at == dt.datetime(2027, 1, 4, 0, 0, tzinfo=dt.UTC)
            sunday_afternoon_utc = dt.datetime(2027, 1, 3, 15, 30, tzinfo=dt.UTC)
            assert services.local_date(sunday_afternoon_utc) == monday  # 00:30 in Tokyo
            assert services.week_start(sunday_afternoon_utc) == monday
        finally:
            session().rollback()


def test_template_bad_input(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        with pytest.raises(ValidationFailed) as err:
            services.add_template(
                officer,
                _est(world.est_id),
                {"weekday": 9, "start_time": "10:00", "end_time": "09:00", "capacity": 0},
            )
        assert {"weekday", "end_time", "capacity"} <= set(err.value.fields)


def test_cancelled_session_cancels_bookings_and_notifies(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        services.cancel_slot(officer, _slot(world.slot_id), "Opération de sécurité")
        session().commit()
        assert _booking(b.reference).status == "cancelled"
        assert _slot(world.slot_id).booked == 0
        assert any(b.reference in m.subject for m in _outbox("visits.cancelled"))


def test_blocking_a_date_cancels_its_slots(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        day = services.local_date(_slot(world.slot_id).starts_at)
        assert services.block_date(officer, _est(world.est_id), day, "Fête") == 1
        assert _booking(b.reference).status == "cancelled"
        assert _slot(world.slot_id).status == "cancelled"
        with pytest.raises(Conflict):
            services.block_date(officer, _est(world.est_id), day, "Fête")


# --- relations ------------------------------------------------------------------------------


def test_relation_request_must_match_and_reveals_nothing(app, world, factories):
    with app.app_context():
        visitor = _user(world.stranger)
        with pytest.raises(ValidationFailed) as wrong_rn:
            services.request_relation(visitor, "2020-999999", "spouse", world.birth.isoformat())
        with pytest.raises(ValidationFailed) as wrong_birth:
            services.request_relation(visitor, world.rn, "spouse", "1970-01-01")
        assert wrong_rn.value.code == wrong_birth.value.code == "no_match"
        assert wrong_rn.value.fields["detainee"] == wrong_birth.value.fields["detainee"]
        rel = services.request_relation(visitor, world.rn, "spouse", world.birth.isoformat())
        assert rel.status == "pending"
        with pytest.raises(ValidationFailed) as no_birth:
            services.request_relation(visitor, world.rn, "spouse")
        assert "detainee_birth_date" in no_birth.value.fields
        with pytest.raises(Conflict):
            services.request_relation(visitor, world.rn, "spouse", world.birth.isoformat())


def test_relation_decisions(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        elsewhere = factories.user("visits_officer", ("EST-B",))
        rel = services.request_relation(
            _user(world.stranger), world.rn, "sibling", world.birth.isoformat()
        )
        with pytest.raises(NotFound):
            services.decide_relation(elsewhere, rel.id, True)
        with pytest.raises(ValidationFailed):
            services.decide_relation(officer, rel.id, False, "")
        services.decide_relation(officer, rel.id, False, "Lien non prouvé")
        assert session().get(Relation, rel.id).status == "rejected"
        with pytest.raises(Conflict):
            services.decide_relation(officer, rel.id, True)
        assert _outbox("visits.relation.rejected")


# --- booking rules ------------------------------------------------------------------------


def test_booking_confirms_with_reference_and_notifies(app, world):
    with app.app_context():
        b = services.book(
            _user(world.visitor),
            world.slot_id,
            world.rn,
            [
                CompanionIn("Youssef Benali", "be654321", dt.date(1990, 1, 1)),
                CompanionIn("Sara Benali", "", dt.date.today() - dt.timedelta(days=365 * 8)),
            ],
        )
        assert b.status == "confirmed"
        assert len(b.reference) == 8
        assert not set(b.reference) & set("01OIL")
        assert (b.adults, b.children) == (2, 1)
        assert b.companions[0].national_id == "BE654321"
        assert _slot(world.slot_id).booked == 1
        assert any(b.reference in m.subject for m in _outbox("visits.confirmation"))


def test_unlinked_pending_or_banned_visitor_cannot_book(app, world, factories):
    with app.app_context():
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.stranger), world.slot_id, world.rn)
        assert err.value.code == "not_linked"
        link(world.stranger.id, world.det_id, status="pending")
        with pytest.raises(ValidationFailed):
            services.book(_user(world.stranger), world.slot_id, world.rn)
        officer = factories.user("visits_officer", ("EST-A",))
        services.ban_visitor(officer, _user(world.visitor), _est(world.est_id), "Incident", None)
        with pytest.raises(ValidationFailed) as banned:
            services.book(_user(world.visitor), world.slot_id, world.rn)
        assert banned.value.code == "visitor_banned"


def test_ban_cancels_future_bookings_and_ends(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        with pytest.raises(ValidationFailed) as err:
            services.ban_visitor(
                officer, _user(world.visitor), _est(world.est_id), "", "2000-01-01"
            )
        assert set(err.value.fields) == {"reason", "ends_on"}
        end = services.local_date(utcnow()) + dt.timedelta(days=10)
        services.ban_visitor(officer, _user(world.visitor), _est(world.est_id), "Incident", end)
        assert _booking(b.reference).status == "cancelled"
        assert services.ban_in_force(world.visitor.id, world.est_id, end)
        assert not services.ban_in_force(world.visitor.id, world.est_id, end + dt.timedelta(days=1))


def test_slot_elsewhere_released_detainee_and_cancelled_slot(app, world, factories):
    with app.app_context():
        visitor = _user(world.visitor)
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, world.other_slot_id, world.rn)
        assert err.value.code == "detainee_elsewhere"
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, 999999, world.rn)
        assert err.value.code == "slot_not_found"
        from core.detainees.services import get_detainee, release

        release(get_detainee(world.rn, SYSTEM), SYSTEM)
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, world.slot_id, world.rn)
        assert err.value.code == "detainee_released"


def test_booking_window(app, world):
    with app.app_context():
        est = _est(world.est_id)
        too_soon = make_slot(est, days=0.5)
        too_far = make_slot(est, days=30)
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), too_soon.id, world.rn)
        assert err.value.code == "window_closed"
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), too_far.id, world.rn)
        assert err.value.code == "window_not_open"
        ids = {s.id for s in services.bookable_slots(_user(world.visitor), _det(world))}
        assert world.slot_id in ids and too_soon.id not in ids and too_far.id not in ids
        assert world.other_slot_id not in ids


def _det(world):
    from core.detainees.models import Detainee

    return session().get(Detainee, world.det_id)


def test_too_many_visitors_and_companion_rules(app, world):
    with app.app_context():
        visitor = _user(world.visitor)
        adults = [CompanionIn(f"Adulte {i}", f"BE{i}0000", dt.date(1980, 1, 1)) for i in range(3)]
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, world.slot_id, world.rn, adults)
        assert err.value.code == "too_many_visitors"
        with pytest.raises(ValidationFailed) as err:
            services.book(
                visitor, world.slot_id, world.rn, [CompanionIn("X", "", dt.date(1980, 1, 1))]
            )
        assert "companions.0.national_id" in err.value.fields
        kids = [
            CompanionIn(f"Enfant {i}", "", dt.date.today() - dt.timedelta(days=1000))
            for i in range(3)
        ]
        with pytest.raises(ValidationFailed) as err:
            services.book(visitor, world.slot_id, world.rn, kids)
        assert err.value.code == "too_many_visitors"
        assert _slot(world.slot_id).booked == 0


def test_weekly_quota_by_legal_status(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        est = _est(world.est_id)
        services.update_rules(officer, est, {"quota_pretrial": 1, "quota_convicted": 0})
        second = _slot(world.slot_id)
        # two hours later, or earlier when later is next week (the test run late on a Thursday)
        shift = dt.timedelta(hours=2)
        if services.week_start(second.starts_at + shift) != services.week_start(second.starts_at):
            shift = -shift
        same_week = services.create_slot(
            SYSTEM, est, second.starts_at + shift, second.ends_at + shift, 5
        )
        services.book(_user(world.visitor), world.slot_id, world.rn)
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), same_week.id, world.rn)
        assert err.value.code == "quota_reached"
        # convicted detainees follow their own quota
        convicted = factories.detainee("EST-A", legal_status="convicted")
        link(world.visitor.id, convicted.id)
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), same_week.id, convicted.registration_number)
        assert err.value.code == "quota_reached"


def test_the_weekly_quota_read_at_each_booking_is_the_rules_of_that_moment(app, world, factories):
    """The quota upsert is built once per process (``capacity._quota_upsert``): the quota is a
    parameter of each booking, never the first booking's value kept in the statement."""
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        est = _est(world.est_id)
        services.update_rules(officer, est, {"quota_pretrial": 1, "quota_convicted": 1})
        # three visiting times of one week, whatever the day the test runs: a Tuesday morning
        # one to two weeks ahead (slots a few hours after "now + 3 days" crossed into the next
        # week when run late on a Thursday)
        today = utcnow().astimezone(ZoneInfo(TIMEZONE)).date()
        tuesday = today + dt.timedelta(days=(1 - today.weekday()) % 7 + 7)
        start = dt.datetime.combine(tuesday, dt.time(9, 0), tzinfo=ZoneInfo(TIMEZONE))
        first, *later = [
            services.create_slot(
                SYSTEM,
                est,
                (start + dt.timedelta(hours=2 * k)).astimezone(dt.UTC),
                (start + dt.timedelta(hours=2 * k + 1)).astimezone(dt.UTC),
                5,
            )
            for k in (0, 1, 2)
        ]
        services.book(_user(world.visitor), first.id, world.rn)
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), later[0].id, world.rn)
        assert err.value.code == "quota_reached"
        services.update_rules(officer, est, {"quota_pretrial": 2, "quota_convicted": 2})
        services.book(_user(world.visitor), later[0].id, world.rn)
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), later[1].id, world.rn)
        assert err.value.code == "quota_reached"


def test_full_slot_is_409_and_cancel_frees_the_place(app, world, factories):
    with app.app_context():
        est = _est(world.est_id)
        tiny = make_slot(est, capacity=1)
        other_det = factories.detainee("EST-A")
        link(world.stranger.id, other_det.id)
        first = services.book(_user(world.visitor), tiny.id, world.rn)
        with pytest.raises(Conflict) as err:
            services.book(_user(world.stranger), tiny.id, other_det.registration_number)
        assert err.value.code == "slot_full"
        services.cancel_booking(_user(world.visitor), first)
        assert _slot(tiny.id).booked == 0
        services.book(_user(world.stranger), tiny.id, other_det.registration_number)


def test_cancellation_deadline_for_families_not_for_staff(app, world, factories):
    with app.app_context():
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        late = _slot(world.slot_id).starts_at - dt.timedelta(hours=2)
        with pytest.raises(ValidationFailed) as err:
            services.cancel_booking(_user(world.visitor), b, now=late)
        assert err.value.code == "cancel_deadline_passed"
        stranger = _user(world.stranger)
        with pytest.raises(NotFound):
            services.get_booking(stranger, b.reference)
        officer = factories.user("visits_officer", ("EST-A",))
        services.cancel_booking(officer, b, "Salle fermée", now=late)
        assert _booking(b.reference).status == "cancelled"
        assert _outbox("visits.cancelled")


# --- the gate -------------------------------------------------------------------------------


def test_check_in_by_qr_text_then_outcome(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        start = _slot(world.slot_id).starts_at
        with pytest.raises(ValidationFailed):
            services.check_in(officer, b.reference, now=start - dt.timedelta(days=1))
        services.check_in(officer, services.qr_text(b).lower(), now=start)
        assert _booking(b.reference).status == "checked_in"
        with pytest.raises(Conflict) as twice:
            services.check_in(officer, b.reference, now=start)
        # scanned twice: said plainly, with the time of the first check-in
        assert twice.value.code == "already_checked_in"
        assert re.search(r"\d\d:\d\d", str(twice.value.message))
        with pytest.raises(ValidationFailed):
            services.record_outcome(officer, b, "detainee_refused", "")
        services.record_outcome(officer, b, "detainee_refused", "Refuse de sortir")
        assert _booking(b.reference).status == "detainee_refused"
        elsewhere = factories.user("visits_officer", ("EST-B",))
        with pytest.raises(NotFound):
            services.check_in(elsewhere, b.reference, now=start)


def test_no_show_only_after_the_session(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        slot = _slot(world.slot_id)
        with pytest.raises(ValidationFailed):
            services.mark_no_show(officer, b)
        after = slot.ends_at + dt.timedelta(minutes=1)
        assert services.mark_slot_no_shows(officer, slot, now=after) == 1
        assert _booking(b.reference).status == "no_show"


def test_walk_in_when_places_remain(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        est = _est(world.est_id)
        today = make_slot(est, days=0.01, capacity=1)
        now = today.starts_at
        with pytest.raises(ValidationFailed) as err:
            services.walk_in(officer, today, "nope", "", "x", 9, 0, now=now)
        assert {"detainee", "visitor_name", "visitor_national_id", "adults"} <= set(
            err.value.fields
        )
        b = services.walk_in(officer, today, world.rn, "Khadija", "bk1234", 1, 1, now=now)
        assert b.status == "checked_in" and b.walk_in and b.visitor_national_id == "BK1234"
        with pytest.raises(Conflict):
            services.walk_in(officer, today, world.rn, "Autre", "BK9999", 1, 0, now=now)
        later = make_slot(est, days=3, capacity=2)
        with pytest.raises(ValidationFailed) as err:
            services.walk_in(officer, later, world.rn, "Khadija", "BK1234", 1, 0, now=now)
        assert err.value.code == "walk_in_closed"


def test_day_sheet_csv_neutralises_formulas(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        session().execute(
            __import__("sqlalchemy")
            .update(type(_user(world.visitor)))
            .where(type(_user(world.visitor)).id == world.visitor.id)
            .values(full_name="=HYPERLINK(1)")
        )
        session().expire_all()
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        day = services.local_date(_slot(world.slot_id).starts_at)
        rows = services.day_sheet(officer, _est(world.est_id), day)
        csv_text = services.day_sheet_csv(rows)
        assert b.reference in csv_text and "'=HYPERLINK(1)" in csv_text


# --- life events and reminders -------------------------------------------------------------


def test_transfer_and_release_cancel_future_bookings(app, world, factories):
    from core.detainees.services import get_detainee, move, release

    with app.app_context():
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        move(get_detainee(world.rn, SYSTEM), _est(world.other_id), SYSTEM)
        assert _booking(b.reference).status == "cancelled"
        assert _slot(world.slot_id).booked == 0
        msgs = _outbox("visits.cancelled")
        assert msgs and b.reference in msgs[-1].body
        other = make_slot(_est(world.other_id))
        b2 = services.book(_user(world.visitor), other.id, world.rn)
        release(get_detainee(world.rn, SYSTEM), SYSTEM)
        assert _booking(b2.reference).status == "cancelled"


def test_reminders_once_for_tomorrow(app, world):
    with app.app_context():
        b = services.book(_user(world.visitor), world.slot_id, world.rn)
        day_before = _slot(world.slot_id).starts_at - dt.timedelta(days=1)
        assert services.send_reminders(now=day_before) == 1
        assert services.send_reminders(now=day_before) == 0
        assert any(b.reference in m.subject for m in _outbox("visits.reminder"))


def test_dashboard_stats_and_profile(app, world, factories):
    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        services.book(_user(world.visitor), world.slot_id, world.rn)
        stats = services.dashboard_stats(officer)
        assert len(stats.daily_no_show) == 30
        assert 0 < stats.fill_rate <= 1
        info = services.detainee_visits(_det(world))
        assert len(info.upcoming) == 1 and info.relations


def test_a_reference_already_given_is_drawn_again(app, world, factories, monkeypatch):
    """References are drawn without a lookup; the unique index refuses a reused one and the
    booking draws again, in the same transaction, and books once."""
    from plugins.visits.services import booking as booking_service

    with app.app_context():
        first = services.book(_user(world.visitor), world.slot_id, world.rn)
        other_det = factories.detainee("EST-A")
        link(world.stranger.id, other_det.id)
        draws = iter([first.reference, first.reference, "ZZZZ2345"])
        monkeypatch.setattr(booking_service, "draw_reference", lambda: next(draws))
        second = services.book(
            _user(world.stranger),
            world.slot_id,
            other_det.registration_number,
            [CompanionIn("Youssef Benali", "be654321", dt.date(1990, 1, 1))],
        )
        session().commit()
        assert second.reference == "ZZZZ2345"
        assert [c.national_id for c in _booking("ZZZZ2345").companions] == ["BE654321"]
        assert _slot(world.slot_id).booked == 2
        refs = session().scalars(select(Booking.reference).where(Booking.slot_id == world.slot_id))
        assert sorted(refs) == sorted([first.reference, "ZZZZ2345"])


def test_a_booking_is_in_the_session_as_if_read_and_later_changes_are_written(app, world):
    """The booking is written by one INSERT … RETURNING (no unit-of-work flush): it comes back
    persistent and clean, every column as stored (defaults included), its companions written
    with it; changing it afterwards flushes as for any loaded row."""
    from sqlalchemy import inspect

    with app.app_context():
        booking = services.book(
            _user(world.visitor),
            world.slot_id,
            world.rn,
            [CompanionIn("Youssef Benali", "be654321", dt.date(1990, 1, 1))],
        )
        sess = session()
        state = inspect(booking)
        assert state.persistent and booking not in sess.new and booking not in sess.dirty
        assert booking.id and booking.created_at is not None and booking.reason == ""
        assert booking.status == BookingStatus.confirmed
        assert [c.full_name for c in booking.companions] == ["Youssef Benali"]
        booking.reason = "changed in the same transaction"
        sess.commit()
        stored = _booking(booking.reference)
        assert stored.reason == "changed in the same transaction"
        assert [c.national_id for c in stored.companions] == ["BE654321"]
        assert stored.companions[0].booking_id == stored.id


def test_the_live_index_alone_refuses_a_second_booking_and_the_transaction_goes_on(
    app, world, monkeypatch
):
    """Without the duplicate check (as when two requests pass it together), the unique index
    of live bookings refuses the second one: 409 ``already_booked``, nothing written, and the
    transaction is still usable (ON CONFLICT DO NOTHING: no error in the database)."""
    from sqlalchemy import bindparam, false

    from plugins.visits.services import booking as booking_service

    with app.app_context():
        services.book(_user(world.visitor), world.slot_id, world.rn)
        session().commit()
        link(world.stranger.id, world.det_id)

        def passes() -> object:
            return select(Booking.id).where(
                Booking.slot_id == bindparam("slot_id"),
                Booking.detainee_id == bindparam("detainee_id"),
                false(),
            )

        monkeypatch.setattr(booking_service, "_active_booking_at", passes)
        with pytest.raises(Conflict) as err:
            services.book(_user(world.stranger), world.slot_id, world.rn)
        assert err.value.code == "already_booked"
        assert (
            session().scalar(select(Booking.id).where(Booking.visitor_id == world.stranger.id))
            is None
        )
        session().rollback()
        assert _slot(world.slot_id).booked == 1


def test_the_slot_count_after_booking_is_the_database_s(app, world):
    """The place is taken with UPDATE … RETURNING: the slot in the session shows the count
    the database holds, without reading it again."""
    with app.app_context():
        slot = _slot(world.slot_id)
        assert slot.booked == 0
        session().execute(
            Slot.__table__.update().where(Slot.id == world.slot_id).values(booked=3)
        )  # another booking's places, unseen by the loaded slot
        services.book(_user(world.visitor), world.slot_id, world.rn)
        assert slot.booked == 4


def test_a_quota_of_zero_refuses_without_a_counter(app, world, factories):
    from plugins.visits.models import QuotaCounter

    with app.app_context():
        officer = factories.user("visits_officer", ("EST-A",))
        services.update_rules(officer, _est(world.est_id), {"quota_pretrial": 0})
        with pytest.raises(ValidationFailed) as err:
            services.book(_user(world.visitor), world.slot_id, world.rn)
        assert err.value.code == "quota_reached"
        assert (
            session().scalar(select(QuotaCounter).where(QuotaCounter.detainee_id == world.det_id))
            is None
        )
