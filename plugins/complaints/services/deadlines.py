"""Deadlines kept by the task queue: reminders to the assigned officer (or the office) a few
working days before the due date, escalation to the director when it passes and to the central
level when it is still overdue ``COMPLAINTS_CENTRAL_ESCALATION_DAYS`` working days after the
due date, and closing the answered complaints whose appeal period ended. Each runs as
``SYSTEM`` and is idempotent."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.principals import SYSTEM

from ..models import Complaint, EntryKind, Outcome, Status
from .calendar import add_working_days, local_today
from .notify import (
    central_reviewers,
    notify_central_escalation,
    notify_escalation,
    notify_reminder,
    office_staff,
)
from .settings import setting
from .workflow import OPEN_STATUSES, add_entry, change_status


def _officers(complaint: Complaint) -> list:
    if complaint.assigned_to is not None and complaint.assigned_to.is_active:
        return [complaint.assigned_to]
    roles = ("director",) if complaint.confidential else (complaint.office,)
    named = {n.user_id for n in complaint.named_staff}
    return [u for u in office_staff(complaint, roles) if u.id not in named]


def send_reminders(today: dt.date | None = None) -> int:
    """Remind once per due date: complaints due within ``COMPLAINTS_REMIND_DAYS`` working days."""
    today = today or local_today()
    horizon = add_working_days(today, setting("COMPLAINTS_REMIND_DAYS"))
    rows = (
        db_session()
        .scalars(
            select(Complaint).where(
                Complaint.status.in_(OPEN_STATUSES),
                Complaint.due_on >= today,
                Complaint.due_on <= horizon,
                Complaint.reminded_on.is_(None),
            )
        )
        .all()
    )
    n = 0
    for complaint in rows:
        notify_reminder(complaint, _officers(complaint))
        complaint.reminded_on = today
        add_entry(complaint, EntryKind.reminder, SYSTEM)
        n += 1
    db_session().flush()
    return n


def escalate_overdue(today: dt.date | None = None) -> int:
    """Escalate once: an overdue complaint goes to the establishment's director (and the
    regional/central level sees it in the overdue list)."""
    today = today or local_today()
    rows = (
        db_session()
        .scalars(
            select(Complaint).where(
                Complaint.status.in_(OPEN_STATUSES),
                Complaint.due_on < today,
                Complaint.escalated_at.is_(None),
            )
        )
        .all()
    )
    for complaint in rows:
        complaint.escalated_at = utcnow()
        notify_escalation(complaint, office_staff(complaint, ("director",)))
        add_entry(complaint, EntryKind.escalation, SYSTEM)
        audit.record(
            "complaints.escalate",
            "complaints_complaint",
            complaint.reference,
            establishment_id=complaint.establishment_id,
            summary={"due_on": complaint.due_on.isoformat()},
            actor=SYSTEM,
        )
    db_session().flush()
    return len(rows) + escalate_to_central(today)


def central_escalation_day(complaint: Complaint) -> dt.date:
    """The first day a complaint still open goes up to the central level: the working day
    after ``COMPLAINTS_CENTRAL_ESCALATION_DAYS`` working days past its due date."""
    return add_working_days(complaint.due_on, setting("COMPLAINTS_CENTRAL_ESCALATION_DAYS") + 1)


def escalate_to_central(today: dt.date | None = None) -> int:
    """Escalate once more: a complaint escalated to the director and still open
    ``COMPLAINTS_CENTRAL_ESCALATION_DAYS`` working days after its due date goes to the central
    level (its reviewers are told; it shows in the central overdue list)."""
    today = today or local_today()
    days = setting("COMPLAINTS_CENTRAL_ESCALATION_DAYS")
    rows = (
        db_session()
        .scalars(
            select(Complaint).where(
                Complaint.status.in_(OPEN_STATUSES),
                Complaint.escalated_at.is_not(None),
                Complaint.central_escalated_at.is_(None),
                # n working days are at least n calendar days: a cheap filter in SQL first
                Complaint.due_on < today - dt.timedelta(days=days),
            )
        )
        .all()
    )
    central = None
    n = 0
    for complaint in rows:
        if central_escalation_day(complaint) > today:
            continue
        central = central if central is not None else central_reviewers()
        complaint.central_escalated_at = utcnow()
        notify_central_escalation(complaint, central)
        add_entry(complaint, EntryKind.central_escalation, SYSTEM)
        audit.record(
            "complaints.escalate_central",
            "complaints_complaint",
            complaint.reference,
            establishment_id=complaint.establishment_id,
            summary={"due_on": complaint.due_on.isoformat(), "working_days": days},
            actor=SYSTEM,
        )
        n += 1
    db_session().flush()
    return n


def close_settled(today: dt.date | None = None) -> int:
    """Close the answered complaints with an outcome whose appeal period is over."""
    from .handling import appeal_deadline

    today = today or local_today()
    rows = (
        db_session()
        .scalars(
            select(Complaint).where(
                Complaint.status == Status.answered, Complaint.outcome != Outcome.none
            )
        )
        .all()
    )
    n = 0
    for complaint in rows:
        deadline = appeal_deadline(complaint)
        if deadline is not None and deadline < today:
            change_status(
                complaint,
                Status.closed,
                SYSTEM,
                detail=complaint.outcome.value,
                visible_to_author=True,
                changes={"closed_at": utcnow()},
            )
            n += 1
    return n
