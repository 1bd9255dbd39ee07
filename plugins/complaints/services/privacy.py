"""A family's own data (``user_data_export``): the complaints they filed, with the answers they
may read. On closing an account the complaints are kept (the administration must keep its
answers), tied to the account's id only; the core erases the name."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from core.contributions import DataSection
from core.db import session as db_session
from core.identity.models import User

from ..models import Complaint
from .categories import category_label
from .labels import outcome_label, status_label


def export_sections(user: User) -> list[DataSection]:
    rows = []
    for c in db_session().scalars(
        select(Complaint).where(Complaint.author_id == user.id).order_by(Complaint.id)
    ):
        answers = [e.body for e in c.entries if e.visible_to_author and e.kind.value == "answer"]
        rows.append(
            {
                "reference": c.reference,
                "received_at": c.received_at.isoformat(),
                "category": category_label(c.category),
                "subject": c.subject,
                "body": c.body,
                "status": status_label(c.status),
                "due_on": c.due_on.isoformat(),
                "outcome": outcome_label(c.outcome),
                "answers": "\n\n".join(answers),
            }
        )
    if not rows:
        return []
    return [
        DataSection(
            key="complaints.complaints",
            title=_("Your complaints"),
            columns=(
                ("reference", _("Reference")),
                ("received_at", _("Received on")),
                ("category", _("Category")),
                ("subject", _("Subject")),
                ("body", _("The complaint")),
                ("status", _("Status")),
                ("due_on", _("Answer due by")),
                ("outcome", _("Outcome")),
                ("answers", _("Answers")),
            ),
            rows=tuple(rows),
            note=_("Complaints are kept, with their answers, after an account is closed."),
            order=40,
        )
    ]
