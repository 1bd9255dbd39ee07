"""How the audit page names the complaints module's events (``audit_labels`` and
``audit_object_names``)."""

from __future__ import annotations

from flask_babel import lazy_pgettext
from sqlalchemy import select

from core.contributions import AuditLabels
from core.db import session
from core.i18n import lazy_gettext as _l

from .models import Complaint
from .services.labels import CHANNEL_LABELS, INADMISSIBLE_REASONS, OUTCOME_LABELS, STATUS_LABELS

COMPLAINTS_AUDIT_LABELS = AuditLabels(
    actions={
        "complaints.": _l("Complaint changed"),
        "complaints.file": _l("Complaint filed"),
        "complaints.acknowledged": _l("Complaint acknowledged"),
        "complaints.in_review": _l("Complaint in review"),
        "complaints.answered": _l("Complaint answered"),
        "complaints.closed": _l("Complaint closed"),
        "complaints.appealed": _l("Complaint appealed"),
        "complaints.appeal_review": _l("Appeal taken up"),
        "complaints.inadmissible": _l("Complaint declared inadmissible"),
        "complaints.withdrawn": _l("Complaint withdrawn"),
        "complaints.note": _l("Internal note added"),
        "complaints.reroute": _l("Complaint re-routed"),
        "complaints.assign": _l("Complaint assigned"),
        "complaints.name_staff": _l("Staff named in a complaint"),
        "complaints.escalate": _l("Overdue complaint escalated"),
        "complaints.escalate_central": _l("Overdue complaint escalated to the central level"),
        "complaints.refer_up": _l("Appeal referred to the central level"),
        "complaints.letter": _l("Reply letter printed"),
        "complaints.attachment": _l("Attachment opened"),
        "complaints.attach": _l("Files attached to a complaint"),
        "complaints.export": _l("Complaints figures exported"),
        "complaints.calendar.propose": _l("Holidays proposed for a year"),
        "complaints.calendar.add": _l("Holiday added"),
        "complaints.calendar.move": _l("Holiday date corrected"),
        "complaints.calendar.remove": _l("Holiday removed"),
        "complaints_complaint.read": _l("Complaint consulted"),
    },
    object_types={
        "complaints_complaint": _l("Complaint"),
        "complaints_holiday": _l("Public holiday"),
        "complaints_calendar": _l("Calendar year"),
        "complaints_figures": _l("Complaints figures"),
    },
    fields={
        "category": _l("Category"),
        "channel": _l("Channel"),
        "confidential": _l("Confidential"),
        "detainee": _l("Detainee"),
        "attachments": _l("Attachments"),
        "file": lazy_pgettext("uploaded file", "File"),
        "due_on": _l("Due on"),
        "status": _l("Status"),
        "detail": _l("Detail"),
        "office": _l("Office"),
        "assigned_to": _l("Assigned to"),
        "named": _l("Staff named"),
        "day": _l("Day"),
        "year": _l("Year"),
        "added": _l("Days added"),
        "as": _l("Read as"),
    },
    values={
        "status": {k.value: v for k, v in STATUS_LABELS.items()},
        "channel": {k.value: v for k, v in CHANNEL_LABELS.items()},
        "detail": {**{k.value: v for k, v in OUTCOME_LABELS.items()}, **INADMISSIBLE_REASONS},
        "as": {"author": _l("Its author"), "staff": _l("Staff")},
    },
)


def complaint_names(references: list[str]) -> dict[str, str]:
    """A complaint by its reference and subject — never for a confidential one (the audit page
    is read by auditors who may not see it)."""
    rows = session().execute(
        select(Complaint.reference, Complaint.subject, Complaint.confidential).where(
            Complaint.reference.in_(references)
        )
    )
    return {ref: ref if conf else f"{ref} · {subject}" for ref, subject, conf in rows}
