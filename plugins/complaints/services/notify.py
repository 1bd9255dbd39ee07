"""Notifications (through the core's outbox), each in the recipient's language: the author on
receipt, answer and decisions; officers on reminders; directors on escalation."""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core.db import session as db_session
from core.i18n import show_date
from core.identity.models import User, UserEstablishment, UserRole
from core.notifications.services import enqueue

from ..models import Complaint


def _in_locale(user: User) -> Any:
    return force_locale(user.locale or "ar")


def _send(user: User | None, kind: str, subject: Any, body: Any) -> None:
    if user is None or not user.is_active:
        return
    enqueue(kind=kind, subject=str(subject), body=str(body), user=user)


def notify_received(complaint: Complaint) -> None:
    """The acknowledgement: the reference and the due date, at once."""
    user = complaint.author
    if user is None:
        return
    with _in_locale(user):
        _send(
            user,
            "complaints.received",
            _("Complaint received: %(ref)s", ref=complaint.reference),
            _(
                "Your complaint “%(subject)s” was received under reference %(ref)s. "
                "An answer is due by %(due)s.",
                subject=complaint.subject,
                ref=complaint.reference,
                due=show_date(complaint.due_on),
            ),
        )


def notify_author(complaint: Complaint, what: str) -> None:
    """Tell the author their complaint was answered or decided (``what`` is a status code)."""
    from .labels import status_label

    user = complaint.author
    if user is None:
        return
    with _in_locale(user):
        _send(
            user,
            f"complaints.{what}",
            _(
                "Your complaint %(ref)s: %(status)s",
                ref=complaint.reference,
                status=status_label(what),
            ),
            _(
                "There is news about your complaint %(ref)s (“%(subject)s”). Sign in to read it.",
                ref=complaint.reference,
                subject=complaint.subject,
            ),
        )


def office_staff(complaint: Complaint, roles: tuple[str, ...]) -> list[User]:
    """Active staff of the complaint's establishment holding one of ``roles``."""
    return list(
        db_session().scalars(
            select(User)
            .join(UserEstablishment, UserEstablishment.user_id == User.id)
            .join(UserRole, UserRole.user_id == User.id)
            .where(
                UserEstablishment.establishment_id == complaint.establishment_id,
                UserRole.role_code.in_(roles),
                User.is_active.is_(True),
            )
            .distinct()
            .order_by(User.id)
        )
    )


def holders(permission: str, establishment_id: int | None = None) -> list[User]:
    """Active users whose roles hold ``permission`` — assigned ``establishment_id`` when given
    (a regional reviewer's region), else wherever they work (the central level)."""
    from core.identity.services import role_permissions

    roles = sorted(r for r, perms in role_permissions().items() if permission in perms)
    if not roles:
        return []
    stmt = (
        select(User)
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role_code.in_(roles), User.is_active.is_(True))
    )
    if establishment_id is not None:
        stmt = stmt.join(UserEstablishment, UserEstablishment.user_id == User.id).where(
            UserEstablishment.establishment_id == establishment_id
        )
    return list(db_session().scalars(stmt.distinct().order_by(User.id)))


def central_reviewers() -> list[User]:
    from ..permissions import APPEALS

    return holders(APPEALS)


def notify_appeal(complaint: Complaint, users: list[User]) -> None:
    """An appeal (or one referred up) waits for its reviewers."""
    for user in users:
        with _in_locale(user):
            _send(
                user,
                "complaints.appeal",
                _("Appeal to review: %(ref)s", ref=complaint.reference),
                _(
                    "The complaint %(ref)s was appealed and waits for your review, due on %(due)s.",
                    ref=complaint.reference,
                    due=show_date(complaint.due_on),
                ),
            )


def notify_central_escalation(complaint: Complaint, users: list[User]) -> None:
    for user in users:
        with _in_locale(user):
            _send(
                user,
                "complaints.central_escalation",
                _("Complaint %(ref)s is still overdue", ref=complaint.reference),
                _(
                    "The complaint %(ref)s was due on %(due)s; the director was told and it "
                    "still has no answer.",
                    ref=complaint.reference,
                    due=show_date(complaint.due_on),
                ),
            )


def notify_reminder(complaint: Complaint, users: list[User]) -> None:
    for user in users:
        with _in_locale(user):
            _send(
                user,
                "complaints.reminder",
                _(
                    "Complaint %(ref)s is due on %(due)s",
                    ref=complaint.reference,
                    due=show_date(complaint.due_on),
                ),
                _(
                    "The complaint %(ref)s waits for an answer, due on %(due)s.",
                    ref=complaint.reference,
                    due=show_date(complaint.due_on),
                ),
            )


def notify_escalation(complaint: Complaint, users: list[User]) -> None:
    for user in users:
        with _in_locale(user):
            _send(
                user,
                "complaints.escalation",
                _("Complaint %(ref)s is overdue", ref=complaint.reference),
                _(
                    "The complaint %(ref)s was due on %(due)s and has no answer yet.",
                    ref=complaint.reference,
                    due=show_date(complaint.due_on),
                ),
            )
