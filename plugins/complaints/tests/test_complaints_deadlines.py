"""Deadlines on the task queue: reminders to the assigned officer (or the office) before the
due date, escalation to the director once overdue, the overdue list, closing settled ones."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.db import session
from core.notifications.models import OutboxMessage
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.complaints import services
from plugins.complaints.models import Complaint, EntryKind, Outcome, Status
from plugins.complaints.services.notify import central_reviewers

from .helpers import family, file_api


def _messages(kind: str) -> list[OutboxMessage]:
    return list(session().scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_the_due_date_counts_working_days_from_the_filing_day(app, factories) -> None:
    visitor, _det = family(app, factories)
    resp = file_api(app, visitor)
    with app.app_context():
        c = services.find(resp.json["reference"])
        today = services.local_today()
        assert c.due_on == services.add_working_days(today, 15) == c.first_due_on
        assert services.working_days_between(today, c.due_on) == 15
        assert services.is_working_day(c.due_on)
        # the family was acknowledged at once, in Arabic by default, with the reference
        (ack,) = [m for m in _messages("complaints.received") if m.user_id == visitor.id]
        assert c.reference in ack.subject and "تم التوصل" in ack.subject


def test_reminders_then_escalation_then_the_overdue_list(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        officer = factories.user("complaints_officer", ("EST-A",))
        other_officer = factories.user("complaints_officer", ("EST-A",))
        director = factories.user("director", ("EST-A",))
        c = services.find(ref)
        services.acknowledge(c, officer)
        session().commit()
        today = services.local_today()
        # two working days before the due date: the assigned officer is reminded, once
        day = c.due_on - dt.timedelta(days=1)
        while services.working_days_between(day, c.due_on) < 2:
            day -= dt.timedelta(days=1)
        assert services.send_reminders(day) == 1
        assert services.send_reminders(day) == 0
        reminded = _messages("complaints.reminder")
        assert [m.user_id for m in reminded] == [officer.id]  # not the colleague
        assert other_officer.id not in [m.user_id for m in reminded]
        # not overdue yet: no escalation
        assert services.escalate_overdue(today) == 0
        # the day after the due date: escalated to the director, once
        after = c.due_on + dt.timedelta(days=1)
        assert services.escalate_overdue(after) == 1
        assert services.escalate_overdue(after) == 0
        assert [m.user_id for m in _messages("complaints.escalation")] == [director.id]
        kinds = [e.kind for e in services.find(ref).entries]
        assert EntryKind.reminder in kinds and EntryKind.escalation in kinds
        # the overdue list shows it once the due date passed
        c = services.find(ref)
        c.due_on = today - dt.timedelta(days=1)
        session().commit()
        assert services.is_overdue(c)
        rows, total = services.queue(officer, services.QueueFilters(overdue=True), 1, 20)
        assert [r.reference for r in rows] == [ref] and total == 1
        assert services.dashboard(officer).overdue == 1
    client = app.test_client()
    client.post("/login", data={"username": officer.username, "password": TEST_PASSWORD})
    page = client.get("/complaints/overdue").get_data(as_text=True)
    assert ref in page
    dash = client.get("/dashboard").get_data(as_text=True)
    assert 'data-testid="complaints-overdue"' in dash


def test_answered_complaints_close_when_the_appeal_period_ends(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    ref2 = file_api(app, visitor, subject="sans issue").json["reference"]
    with app.app_context():
        services.answer(services.find(ref), SYSTEM, "Réglé.", "founded")
        services.answer(services.find(ref2), SYSTEM, "Vu.")
        session().commit()
        today = services.local_today()
        assert services.close_settled(today) == 0  # still within the appeal period
        later = today + dt.timedelta(days=31)
        assert services.close_settled(later) == 1  # only the one with an outcome
        c = services.find(ref)
        assert c.status is Status.closed and c.outcome is Outcome.founded
        assert services.find(ref2).status is Status.answered


def test_the_periodic_tasks_are_declared(app) -> None:
    queue = app.extensions["idmaj.tasks"]
    names = set(queue.periodic)
    assert {"complaints.reminders", "complaints.escalation", "complaints.close_settled"} <= names


def test_an_appeal_sets_a_new_due_date(app, factories) -> None:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        c = services.find(ref)
        services.answer(c, SYSTEM, "Réponse.")
        c.first_due_on = c.due_on
        services.appeal(services.find(ref), visitor, "Je conteste.")
        session().commit()
        c = session().scalar(select(Complaint).where(Complaint.reference == ref))
        assert c.status is Status.appealed
        assert c.due_on == services.add_working_days(services.local_today(), 15)
        assert c.assigned_to_id is None


def _overdue_complaint(app, factories, due_on: dt.date) -> str:
    visitor, _det = family(app, factories)
    ref = file_api(app, visitor).json["reference"]
    with app.app_context():
        c = services.find(ref)
        c.due_on = due_on
        session().commit()
    return ref


def test_still_overdue_after_n_working_days_it_goes_to_the_central_level(app, factories) -> None:
    """Due on a Thursday, N = 2: the director is told on Friday; the central level on the
    working day after Friday and Monday — Tuesday, or Wednesday when Monday is a holiday."""
    app.config["COMPLAINTS_CENTRAL_ESCALATION_DAYS"] = 2
    D = dt.date
    thursday = D(2030, 9, 12)
    with app.app_context():
        central = factories.user("central_admin")
        director = factories.user("director", ("EST-A",))
        for day in (thursday, D(2030, 9, 13), D(2030, 9, 16), D(2030, 9, 17), D(2030, 9, 18)):
            assert services.is_working_day(day), day
    ref = _overdue_complaint(app, factories, thursday)
    with app.app_context():
        assert services.escalate_overdue(D(2030, 9, 13)) == 1  # Friday: the director only
        assert [m.user_id for m in _messages("complaints.escalation")] == [director.id]
        # the weekend and Monday do not count past N: nothing more until Tuesday
        for day in (D(2030, 9, 14), D(2030, 9, 15), D(2030, 9, 16)):
            assert services.escalate_to_central(day) == 0, day
        assert services.escalate_overdue(D(2030, 9, 17)) == 1  # Tuesday: the centre
        assert services.escalate_overdue(D(2030, 9, 18)) == 0  # once
        told = [m.user_id for m in _messages("complaints.central_escalation")]
        assert central.id in told and director.id not in told
        assert set(told) == {u.id for u in central_reviewers()}  # the central level, once each
        assert len(told) == len(set(told))
        c = services.find(ref)
        assert c.central_escalated_at is not None
        assert EntryKind.central_escalation in [e.kind for e in c.entries]
        # the central overdue list shows it; the establishment's director is not the centre
        rows, total = services.queue(central, services.QueueFilters(central=True), 1, 20)
        assert [r.reference for r in rows] == [ref] and total == 1
        session().commit()
    client = app.test_client()
    client.post("/login", data={"username": central.username, "password": TEST_PASSWORD})
    central_page = client.get("/complaints/overdue/central").get_data(as_text=True)
    assert ref in central_page
    boss = app.test_client()
    boss.post("/login", data={"username": director.username, "password": TEST_PASSWORD})
    assert boss.get("/complaints/overdue/central").status_code == 403
    anon = app.test_client().get("/complaints/overdue/central")
    assert anon.status_code == 302 and "/login" in anon.headers["Location"]


def test_a_holiday_pushes_the_central_escalation_back(app, factories) -> None:
    app.config["COMPLAINTS_CENTRAL_ESCALATION_DAYS"] = 2
    D = dt.date
    thursday = D(2030, 9, 12)
    with app.app_context():
        factories.user("central_admin")
        services.add_holiday(D(2030, 9, 16), {"name_fr": "Deuil national"}, SYSTEM)
        session().commit()
    ref = _overdue_complaint(app, factories, thursday)
    with app.app_context():
        assert services.escalate_overdue(D(2030, 9, 13)) == 1
        assert services.escalate_to_central(D(2030, 9, 17)) == 0  # Monday did not count
        assert services.escalate_to_central(D(2030, 9, 18)) == 1
        assert services.find(ref).central_escalated_at is not None


def test_an_answered_complaint_is_not_escalated_to_the_central_level(app, factories) -> None:
    app.config["COMPLAINTS_CENTRAL_ESCALATION_DAYS"] = 2
    D = dt.date
    ref = _overdue_complaint(app, factories, D(2030, 9, 12))
    with app.app_context():
        assert services.escalate_overdue(D(2030, 9, 13)) == 1
        services.answer(services.find(ref), SYSTEM, "Enfin.")
        session().commit()
        assert services.escalate_to_central(D(2030, 9, 30)) == 0
    # never escalated to the director (the task did not run): the director first
    other = _overdue_complaint(app, factories, D(2030, 9, 12))
    with app.app_context():
        assert services.escalate_to_central(D(2030, 9, 30)) == 0
        assert services.escalate_overdue(D(2030, 9, 30)) == 2  # the director, then the centre
        assert services.find(other).central_escalated_at is not None
