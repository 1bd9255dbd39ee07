"""The complaints JSON API (interface.md): categories, filing, one complaint, answer, appeal."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request, url_for
from flask_babel import gettext as _
from pydantic import BaseModel, Field

from core.api.idempotency import idempotent
from core.api.toolkit import ApiModel, endpoint
from core.errors import Malformed
from core.identity.models import User
from plugins.complaints import services
from plugins.complaints.permissions import FILE

bp = Blueprint("complaints_api", __name__, url_prefix="/api/v1/complaints")
TAGS = ["complaints"]


class CategoryOut(BaseModel):
    code: str
    label: str
    module: str
    office: str


class ComplaintIn(ApiModel):
    category: str = Field(max_length=60)
    subject: str = Field(max_length=200)
    body: str = Field(max_length=5000)
    detainee: str | None = Field(None, max_length=20, description="Registration number.")
    confidential: bool = False
    channel: str | None = Field(
        None,
        max_length=20,
        description="Staff only: `written`, `oral`, `phone` or `complaint_box`.",
    )


class FiledOut(BaseModel):
    reference: str
    status: str
    due_on: str


class AnswerIn(ApiModel):
    body: str = Field(max_length=5000)
    outcome: str | None = Field(
        None, description="`founded`, `partly_founded` or `unfounded` (may wait for closing)."
    )


class AppealIn(ApiModel):
    reason: str = Field(max_length=3000)


class StatusOut(BaseModel):
    reference: str
    status: str
    due_on: str


class AnswerOut(BaseModel):
    body: str
    at: str


class AttachmentOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    url: str = Field(description="GET it with the same bearer token (the file itself).")


class AttachmentsOut(BaseModel):
    items: list[AttachmentOut]


class ComplaintOut(BaseModel):
    reference: str
    status: str
    status_label: str
    category: str
    category_label: str
    subject: str
    body: str
    detainee: str
    establishment: str
    channel: str
    confidential: bool
    received_at: str
    due_on: str
    overdue: bool
    outcome: str | None
    appeal_until: str | None
    answers: list[AnswerOut]
    attachments: list[AttachmentOut]


def attachment_json(complaint: Any, att: Any) -> dict[str, Any]:
    return {
        "id": att.id,
        "filename": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "url": url_for(
            "complaints_api.download_attachment", reference=complaint.reference, file_id=att.id
        ),
    }


def complaint_json(complaint: Any, user: User) -> dict[str, Any]:
    deadline = services.appeal_deadline(complaint) if services.can_appeal(complaint) else None
    return {
        "reference": complaint.reference,
        "status": complaint.status.value,
        "status_label": services.status_label(complaint.status),
        "category": complaint.category,
        "category_label": services.category_label(complaint.category),
        "subject": complaint.subject,
        "body": complaint.body,
        "detainee": complaint.detainee.registration_number,
        "establishment": complaint.establishment.code,
        "channel": complaint.channel.value,
        "confidential": complaint.confidential,
        "received_at": complaint.received_at.isoformat(),
        "due_on": complaint.due_on.isoformat(),
        "overdue": services.is_overdue(complaint),
        "outcome": complaint.outcome.value or None,
        "appeal_until": deadline.isoformat() if deadline else None,
        "answers": [
            {"body": e.body, "at": e.created_at.isoformat()}
            for e in services.answers(complaint, user)
        ],
        "attachments": [attachment_json(complaint, a) for a in services.attachments_of(complaint)],
    }


def _status(complaint: Any) -> dict[str, Any]:
    return {
        "reference": complaint.reference,
        "status": complaint.status.value,
        "due_on": complaint.due_on.isoformat(),
    }


@bp.get("/categories")
@endpoint("What complaints may be about (modules add their own)", response=CategoryOut, tags=TAGS)
def categories(user: User) -> dict[str, Any]:
    items = [
        {"code": c.code, "label": str(c.label), "module": c.module, "office": c.office}
        for c in services.all_categories()
    ]
    return {"items": items, "total": len(items), "page": 1, "per_page": max(len(items), 1)}


@bp.post("")
@endpoint(
    "File a complaint (a family member about a linked detainee; staff on a detainee's behalf)",
    body=ComplaintIn,
    response=FiledOut,
    status=201,
    permission=FILE,
    tags=TAGS,
    errors=(403, 422, 429),
    description="A family member may leave out `detainee` when linked to exactly one. Staff "
    "give the `channel`. 429 `daily_limit` past the day's limit. Honours `Idempotency-Key`.",
)
@idempotent
def file_complaint(body: ComplaintIn, user: User) -> dict[str, Any]:
    complaint = services.file_complaint(
        user,
        category=body.category,
        subject=body.subject,
        body=body.body,
        detainee=body.detainee,
        confidential=body.confidential,
        channel=body.channel,
    )
    return {
        "reference": complaint.reference,
        "status": complaint.status.value,
        "due_on": complaint.due_on.isoformat(),
    }


@bp.get("/<reference>")
@endpoint(
    "A complaint, its answers visible to the reader, status and due date",
    response=ComplaintOut,
    tags=TAGS,
    errors=(404,),
    description="Its author; complaints staff of the establishment (a confidential one: its "
    "director only). Every read is audited.",
)
def get_complaint(reference: str, user: User) -> dict[str, Any]:
    return complaint_json(services.get_complaint(reference, user), user)


@bp.post("/<reference>/answer")
@endpoint(
    "Answer a complaint (the author is notified)",
    body=AnswerIn,
    response=StatusOut,
    tags=TAGS,
    errors=(403, 404, 409, 422),
    description="Complaints officer, director (or the office the category routes to); an "
    "appeal is answered at the regional or central level.",
)
def answer(reference: str, body: AnswerIn, user: User) -> dict[str, Any]:
    complaint = services.get_complaint(reference, user, audit_read=False)
    return _status(services.answer(complaint, user, body.body, body.outcome))


@bp.post("/<reference>/appeal")
@endpoint(
    "Appeal the answer (its author, within the appeal period)",
    body=AppealIn,
    response=StatusOut,
    tags=TAGS,
    errors=(403, 404, 409, 422),
    description="422 `appeal_period_over` after the period; 409 when not answered yet or "
    "appealed already.",
)
def appeal(reference: str, body: AppealIn, user: User) -> dict[str, Any]:
    complaint = services.get_complaint(reference, user, audit_read=False)
    return _status(services.appeal(complaint, user, body.reason))


FILES_FIELD = "attachments"


def _uploads() -> list[services.Upload]:
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise Malformed(
            _("Send the files as multipart/form-data, in the field “attachments”."),
            code="malformed_request",
        )
    limit = services.setting("COMPLAINTS_MAX_ATTACHMENT_BYTES")
    return [
        services.Upload(f.filename or "", f.read(limit + 1))
        for f in request.files.getlist(FILES_FIELD)
        if f is not None
    ]


@bp.post("/<reference>/attachments")
@endpoint(
    "Attach files to a complaint (PDF, JPEG or PNG)",
    response=AttachmentsOut,
    status=201,
    tags=TAGS,
    errors=(404, 409),
    files=FILES_FIELD,
    description="Its author, or staff who see the complaint. multipart/form-data, the files in "
    "`attachments`: at most 3 files per complaint, 2 MB each, recognised by their first bytes "
    "(422 with `fields.attachments` otherwise, or when empty); 409 once the complaint is "
    "closed or withdrawn. Audited.",
)
def add_attachments(reference: str, user: User) -> dict[str, Any]:
    complaint = services.get_complaint(reference, user, audit_read=False)
    added = services.add_attachments(complaint, user, _uploads())
    return {"items": [attachment_json(complaint, a) for a in added]}


@bp.get("/<reference>/attachments/<int:file_id>")
@endpoint(
    "Download one attached file (the file itself, not JSON)",
    tags=TAGS,
    errors=(404,),
    description="Whoever may read the complaint. `Content-Disposition: attachment`, "
    "`X-Content-Type-Options: nosniff`. Audited.",
)
def download_attachment(reference: str, file_id: int, user: User) -> Response:
    complaint = services.get_complaint(reference, user, audit_read=False)
    found = services.open_attachment(complaint, user, file_id)
    resp = Response(found.data, mimetype=found.content_type)
    resp.headers["Content-Disposition"] = f'attachment; filename="{found.filename}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
