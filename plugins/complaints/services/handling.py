"""What the administration and the author do with a complaint after filing. Every change goes
through :func:`workflow.change_status` (or adds a timeline entry) and is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, Forbidden, ValidationFailed
from core.identity.models import User
from core.identity.services import has_permission
from core.principals import Principal, is_system

from ..models import AppealLevel, Complaint, EntryKind, NamedStaff, Outcome, Status
from ..permissions import MANAGE
from .access import (
    appeal_level_for,
    ensure_handler,
    ensure_readable,
    is_author,
    is_named,
    is_regional_reviewer,
    regional_reviewers,
)
from .calendar import add_working_days, local_today
from .categories import all_categories
from .labels import INADMISSIBLE_REASONS
from .notify import central_reviewers, notify_appeal, notify_author
from .settings import setting
from .text import one_text
from .workflow import APPEAL_STATUSES, DECIDED_STATUSES, OPEN_STATUSES, add_entry, change_status


def _audit(action: str, complaint: Complaint, actor: Principal, **summary: Any) -> None:
    audit.record(
        f"complaints.{action}",
        "complaints_complaint",
        complaint.reference,
        establishment_id=complaint.establishment_id,
        summary=summary,
        actor=actor,
    )


def _outcome(value: Any, *, required: bool) -> Outcome | None:
    if value in (None, "") and not required:
        return None
    try:
        outcome = Outcome(value)
    except ValueError:
        outcome = Outcome.none
    if outcome is Outcome.none:
        raise ValidationFailed(
            _("Choose the outcome: founded, partly founded or unfounded."),
            fields={"outcome": _("Choose the outcome: founded, partly founded or unfounded.")},
        )
    return outcome


def acknowledge(complaint: Complaint, actor: Principal) -> Complaint:
    """An officer takes the complaint in hand: acknowledged, and assigned to them."""
    ensure_handler(actor, complaint)
    changes: dict[str, Any] = {}
    if complaint.assigned_to_id is None and isinstance(actor, User):
        changes["assigned_to_id"] = actor.id
    return change_status(
        complaint, Status.acknowledged, actor, visible_to_author=True, changes=changes
    )


def start_review(complaint: Complaint, actor: Principal) -> Complaint:
    ensure_handler(actor, complaint)
    if complaint.status is Status.appealed:
        return change_status(complaint, Status.appeal_review, actor, visible_to_author=True)
    return change_status(complaint, Status.in_review, actor, visible_to_author=True)


def take_appeal(complaint: Complaint, actor: Principal) -> Complaint:
    """A reviewer takes up an appeal: a regional reviewer at the regional level, the central
    administration at the central level (taking over a regional one if it must)."""
    ensure_handler(actor, complaint)
    lvl = AppealLevel.regional if is_regional_reviewer(actor, complaint) else AppealLevel.central
    return change_status(
        complaint,
        Status.appeal_review,
        actor,
        detail=lvl.value,
        visible_to_author=True,
        changes={"appeal_level": lvl},
    )


def refer_up(complaint: Complaint, actor: Principal, comment: Any) -> Complaint:
    """A regional reviewer refers an appeal up to the central level (with a comment, staff
    only); the central reviewers are told. A conditional update: referred once."""
    ensure_handler(actor, complaint)
    if not is_regional_reviewer(actor, complaint):
        raise Conflict(
            _("Only an appeal at the regional level can be referred up."), code="wrong_level"
        )
    text = one_text(comment, "comment", max_len=1000)
    done = db_session().execute(
        update(Complaint)
        .where(
            Complaint.id == complaint.id,
            Complaint.appeal_level == AppealLevel.regional,
            Complaint.status.in_(APPEAL_STATUSES),
        )
        .values(appeal_level=AppealLevel.central, assigned_to_id=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(_("Someone else changed this complaint: reload it."), code="wrong_status")
    complaint.appeal_level = AppealLevel.central
    complaint.assigned_to_id = None
    add_entry(complaint, EntryKind.referral, actor, body=text, detail=AppealLevel.central.value)
    _audit("refer_up", complaint, actor, appeal_level=["regional", "central"])
    notify_appeal(complaint, central_reviewers())
    return complaint


def answer(complaint: Complaint, actor: Principal, body: Any, outcome: Any = None) -> Complaint:
    """An answer the author reads (and may appeal within the appeal period)."""
    ensure_handler(actor, complaint)
    text = one_text(body, "body")
    out = _outcome(outcome, required=False)
    if complaint.status not in OPEN_STATUSES:
        raise Conflict(_("This complaint is not waiting for an answer."), code="wrong_status")
    now = utcnow()
    changes: dict[str, Any] = {"answered_at": now}
    if complaint.first_answered_at is None:
        changes["first_answered_at"] = now
    if out is not None:
        changes["outcome"] = out
    change_status(
        complaint,
        Status.answered,
        actor,
        detail=out.value if out is not None else "",
        visible_to_author=True,
        changes=changes,
    )
    add_entry(complaint, EntryKind.answer, actor, body=text, visible_to_author=True)
    notify_author(complaint, Status.answered.value)
    return complaint


def close(complaint: Complaint, actor: Principal, outcome: Any = None) -> Complaint:
    ensure_handler(actor, complaint)
    out = _outcome(outcome, required=complaint.outcome is Outcome.none) or complaint.outcome
    change_status(
        complaint,
        Status.closed,
        actor,
        detail=out.value,
        visible_to_author=True,
        changes={"outcome": out, "closed_at": utcnow()},
    )
    notify_author(complaint, Status.closed.value)
    return complaint


def declare_inadmissible(
    complaint: Complaint, actor: Principal, reason: Any, comment: Any = ""
) -> Complaint:
    ensure_handler(actor, complaint)
    if reason not in INADMISSIBLE_REASONS:
        raise ValidationFailed(
            _("Choose the reason from the list."),
            fields={"reason": _("Choose the reason from the list.")},
        )
    text = one_text(comment, "comment") if comment else ""
    now = utcnow()
    change_status(
        complaint,
        Status.inadmissible,
        actor,
        comment=text,
        detail=reason,
        visible_to_author=True,
        changes={"inadmissible_reason": reason, "answered_at": now},
    )
    notify_author(complaint, Status.inadmissible.value)
    return complaint


def withdraw(complaint: Complaint, actor: Principal, comment: Any = "") -> Complaint:
    """Its author withdraws it (or staff, on the word of the detainee they filed for)."""
    ensure_readable(actor, complaint)
    if not is_author(actor, complaint) and (
        complaint.author_id is not None or not _may_speak_for(actor, complaint)
    ):
        raise Forbidden(_("Only its author may withdraw a complaint."), code="not_author")
    text = one_text(comment, "comment", max_len=1000) if comment else ""
    return change_status(
        complaint,
        Status.withdrawn,
        actor,
        comment=text,
        visible_to_author=True,
        changes={"closed_at": utcnow()},
    )


def _may_speak_for(actor: Principal, complaint: Complaint) -> bool:
    return is_system(actor) or (has_permission(actor, MANAGE) and not is_named(actor, complaint))


def appeal_deadline(complaint: Complaint) -> dt.date | None:
    if complaint.answered_at is None:
        return None
    from .calendar import local_day

    return local_day(complaint.answered_at) + dt.timedelta(days=setting("COMPLAINTS_APPEAL_DAYS"))


def can_appeal(complaint: Complaint) -> bool:
    deadline = appeal_deadline(complaint)
    return (
        complaint.status in DECIDED_STATUSES
        and complaint.appealed_at is None
        and deadline is not None
        and local_today() <= deadline
    )


def appeal(complaint: Complaint, actor: Principal, reason: Any) -> Complaint:
    """The author appeals the answer, within the appeal period: it goes to the regional or
    central level, with a new due date."""
    ensure_readable(actor, complaint)
    if not is_author(actor, complaint) and (
        complaint.author_id is not None or not _may_speak_for(actor, complaint)
    ):
        raise Forbidden(_("Only its author may appeal a complaint."), code="not_author")
    text = one_text(reason, "reason", max_len=3000)
    if complaint.status not in DECIDED_STATUSES:
        raise Conflict(_("Only an answered complaint can be appealed."), code="wrong_status")
    if complaint.appealed_at is not None:
        raise Conflict(_("This complaint was appealed already."), code="already_appealed")
    if not can_appeal(complaint):
        raise ValidationFailed(
            ngettext(
                "The appeal period has ended (%(num)d day after the answer).",
                "The appeal period has ended (%(num)d days after the answer).",
                setting("COMPLAINTS_APPEAL_DAYS"),
            ),
            code="appeal_period_over",
            fields={"reason": _("The appeal period has ended.")},
        )
    now = utcnow()
    level = appeal_level_for(complaint)
    change_status(
        complaint,
        Status.appealed,
        actor,
        detail=level.value,
        visible_to_author=True,
        changes={
            "appeal_level": level,
            "appealed_at": now,
            "due_on": add_working_days(local_today(), setting("COMPLAINTS_ANSWER_DAYS")),
            "reminded_on": None,
            "escalated_at": None,
            "central_escalated_at": None,
            "assigned_to_id": None,
        },
    )
    add_entry(complaint, EntryKind.appeal, actor, body=text, visible_to_author=True)
    reviewers = (
        regional_reviewers(complaint.establishment_id)
        if level is AppealLevel.regional
        else central_reviewers()
    )
    notify_appeal(complaint, reviewers)
    return complaint


def add_note(complaint: Complaint, actor: Principal, body: Any) -> None:
    """An internal note: staff only, never shown to the author."""
    ensure_handler(actor, complaint)
    text = one_text(body, "body")
    add_entry(complaint, EntryKind.note, actor, body=text)
    _audit("note", complaint, actor)


def reroute(complaint: Complaint, actor: Principal, category: Any, comment: Any) -> Complaint:
    """Another category, so another office; with a comment (staff only)."""
    ensure_handler(actor, complaint)
    cats = {c.code: c for c in all_categories()}
    cat = cats.get(category) if isinstance(category, str) else None
    if cat is None:
        raise ValidationFailed(
            _("Choose a category from the list."),
            fields={"category": _("Choose a category from the list.")},
        )
    text = one_text(comment, "comment", max_len=1000)
    if complaint.status in (Status.closed, Status.withdrawn):
        raise Conflict(_("This complaint is finished."), code="wrong_status")
    old = (complaint.category, complaint.office)
    complaint.category = cat.code
    complaint.office = cat.office
    complaint.assigned_to_id = None
    complaint.updated_at = utcnow()
    db_session().flush()
    add_entry(complaint, EntryKind.reroute, actor, body=text, detail=cat.code)
    _audit("reroute", complaint, actor, category=[old[0], cat.code], office=[old[1], cat.office])
    return complaint


def assignable_staff(complaint: Complaint) -> list[User]:
    """Who may be assigned: staff of the establishment in the complaint's office (or the
    complaints office and the director), never someone named in it."""
    from .notify import office_staff

    roles = (complaint.office, "complaints_officer", "director")
    if complaint.confidential:
        roles = ("director",)
    named = {n.user_id for n in complaint.named_staff}
    return [u for u in office_staff(complaint, roles) if u.id not in named]


def assign(complaint: Complaint, actor: Principal, user_id: Any) -> Complaint:
    ensure_handler(actor, complaint)
    try:
        uid = int(user_id)
    except (TypeError, ValueError):
        uid = 0
    named = {n.user_id for n in complaint.named_staff}
    if uid in named:
        raise ValidationFailed(
            _("Staff named in the complaint cannot be assigned to it."),
            code="named_staff",
            fields={"user": _("Staff named in the complaint cannot be assigned to it.")},
        )
    target = next((u for u in assignable_staff(complaint) if u.id == uid), None)
    if target is None:
        raise ValidationFailed(
            _("Choose someone of the office from the list."),
            fields={"user": _("Choose someone of the office from the list.")},
        )
    old = complaint.assigned_to_id
    complaint.assigned_to_id = target.id
    complaint.updated_at = utcnow()
    db_session().flush()
    add_entry(complaint, EntryKind.assign, actor, detail=target.username)
    _audit("assign", complaint, actor, assigned_to=[old, target.id])
    return complaint


def name_staff(complaint: Complaint, actor: Principal, user_ids: list[Any]) -> Complaint:
    """Record staff members named in the complaint; one who was assigned is unassigned."""
    ensure_handler(actor, complaint)
    from .notify import office_staff

    staff = {u.id: u for u in office_staff(complaint, _all_staff_roles())}
    chosen = []
    for raw in user_ids:
        try:
            uid = int(raw)
        except (TypeError, ValueError):
            uid = 0
        if uid not in staff:
            raise ValidationFailed(
                _("Choose staff members from the list."),
                fields={"named_staff": _("Choose staff members from the list.")},
            )
        chosen.append(uid)
    have = {n.user_id for n in complaint.named_staff}
    sess = db_session()
    for uid in sorted(set(chosen) - have):
        sess.add(NamedStaff(complaint_id=complaint.id, user_id=uid))
    if complaint.assigned_to_id in chosen:
        complaint.assigned_to_id = None
    sess.flush()
    sess.expire(complaint, ["named_staff"])
    _audit("name_staff", complaint, actor, named=sorted(set(chosen) | have))
    return complaint


def _all_staff_roles() -> tuple[str, ...]:
    from core.identity.roles import role_registry

    return tuple(role_registry().staff_codes)


def named_staff_ids(complaint: Complaint) -> set[int]:
    return set(
        db_session().scalars(
            select(NamedStaff.user_id).where(NamedStaff.complaint_id == complaint.id)
        )
    )
