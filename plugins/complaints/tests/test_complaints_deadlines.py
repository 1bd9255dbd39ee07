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
