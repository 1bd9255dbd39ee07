"""Attachments added after filing (the API's ``POST …/attachments``) and opening one (pages
and API): the same limits as filing — at most ``COMPLAINTS_MAX_ATTACHMENTS`` files per
complaint, ``COMPLAINTS_MAX_ATTACHMENT_BYTES`` each, PDF, JPEG or PNG recognised by their first
bytes. Who: the complaint's author, or staff who may see it (not a finished complaint). Every
addition and every opening is audited."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from core.audit import services as audit
from core.db import session as db_session
from core.errors import Conflict, NotFound, ValidationFailed
from core.principals import Principal

from ..models import Attachment, Complaint
from .access import ensure_readable, is_author
from .filing import Upload, check_uploads
from .settings import setting
from .workflow import FINAL_STATUSES


def attachments_of(complaint: Complaint) -> list[Attachment]:
    return list(complaint.attachments)


def add_attachments(
    complaint: Complaint, actor: Principal, uploads: Sequence[Upload]
) -> list[Attachment]:
    """Attach files to a complaint; the complaint row is locked first so that two requests at
    once cannot pass the per-complaint limit together."""
    ensure_readable(actor, complaint)
    uploads = [u for u in uploads if u.data or u.filename]
    if not uploads:
        message = _("Attach at least one file.")
        raise ValidationFailed(message, fields={"attachments": message})
    if complaint.status in FINAL_STATUSES:
        raise Conflict(_("This complaint is finished."), code="wrong_status")
    sess = db_session()
    sess.execute(select(Complaint.id).where(Complaint.id == complaint.id).with_for_update())
    have = int(
        sess.scalar(select(func.count()).where(Attachment.complaint_id == complaint.id)) or 0
    )
    limit = setting("COMPLAINTS_MAX_ATTACHMENTS")
    errors: dict[str, str] = {}
    if have + len(uploads) > limit:
        errors["attachments"] = ngettext(
            "A complaint has at most %(num)d file.", "A complaint has at most %(num)d files.", limit
        )
        files = []
    else:
        files = check_uploads(uploads, errors)
    if errors:
        raise ValidationFailed(errors["attachments"], fields=errors)
    added = []
    for name, content_type, data in files:
        att = Attachment(
            complaint_id=complaint.id,
            filename=name,
            content_type=content_type,
            size=len(data),
            data=data,
        )
        sess.add(att)
        added.append(att)
    sess.flush()
    sess.expire(complaint, ["attachments"])
    audit.record(
        "complaints.attach",
        "complaints_complaint",
        complaint.reference,
        establishment_id=complaint.establishment_id,
        summary={
            "files": [a.filename for a in added],
            "by": "author" if is_author(actor, complaint) else "staff",
        },
        actor=actor,
    )
    return added


def open_attachment(complaint: Complaint, actor: Principal, file_id: int) -> Attachment:
    """One of the complaint's files, for someone who may read the complaint (audited)."""
    ensure_readable(actor, complaint)
    found = db_session().scalar(
        select(Attachment).where(Attachment.id == file_id, Attachment.complaint_id == complaint.id)
    )
    if found is None:
        raise NotFound(_("No such file."))
    audit.record(
        "complaints.attachment",
        "complaints_complaint",
        complaint.reference,
        establishment_id=complaint.establishment_id,
        summary={"file": found.filename},
        actor=actor,
    )
    return found
