"""Filing a complaint: a family member online about a detainee they are linked to, or staff on
a detainee's behalf (with the channel: written, oral…). A reference and an acknowledgement are
given at once; the due date counts working days on the national calendar."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.audit import services as audit
from core.contributions import ComplaintCategory
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.detainees.services import get_detainee, lock_detainee, next_counter
from core.errors import NotFound, TooManyRequests
from core.identity.models import User
from core.identity.services import has_permission, require
from core.plugins import get_plugin_manager

from ..models import Attachment, Channel, Complaint, DailyCount, EntryKind, NamedStaff, Status
from ..permissions import FILE
from .calendar import add_working_days, local_day, local_today
from .categories import all_categories
from .notify import notify_received
from .settings import setting
from .text import SUBJECT_MAX, clean_line, clean_text, raise_if
from .workflow import add_entry

SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}
EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


def sniff(data: bytes) -> str | None:
    """The file's type from its first bytes (never from its name or the browser's word)."""
    for content_type, magics in SIGNATURES.items():
        if any(data.startswith(m) for m in magics):
            return content_type
    return None


def _safe_name(name: str, content_type: str) -> str:
    base = re.sub(r"[^\w.\- ]+", "_", (name or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    base = base.strip(" .")[:80] or "file"
    ext = EXTENSIONS[content_type]
    return base if base.lower().endswith(ext) else base + ext


def check_uploads(
    uploads: Sequence[Upload], errors: dict[str, str]
) -> list[tuple[str, str, bytes]]:
    uploads = [u for u in uploads if u.data or u.filename]
    if len(uploads) > setting("COMPLAINTS_MAX_ATTACHMENTS"):
        errors["attachments"] = ngettext(
            "Attach at most %(num)d file.",
            "Attach at most %(num)d files.",
            setting("COMPLAINTS_MAX_ATTACHMENTS"),
        )
        return []
    limit = setting("COMPLAINTS_MAX_ATTACHMENT_BYTES")
    kept = []
    for upload in uploads:
        if not upload.data:
            errors["attachments"] = _("An attached file is empty.")
            continue
        if len(upload.data) > limit:
            errors["attachments"] = _("A file may be at most %(mb)s MB.", mb=limit // (1024 * 1024))
            continue
        content_type = sniff(upload.data)
        if content_type is None:
            errors["attachments"] = _("Attach PDF, JPEG or PNG files only.")
            continue
        kept.append((_safe_name(upload.filename, content_type), content_type, upload.data))
    return kept


def author_detainees(user: User) -> list[Detainee]:
    """The detainees a family member may complain about (the ``complaints_author_detainees``
    hook: visits answers with the approved relations)."""
    pm = get_plugin_manager(current_app)
    seen: dict[int, Detainee] = {}
    for _plugin, det in pm.collect_by_plugin("complaints_author_detainees", user=user):
        if isinstance(det, Detainee):
            seen.setdefault(det.id, det)
    return sorted(seen.values(), key=lambda d: d.registration_number)


def _detainee_for(actor: User, rn: Any, errors: dict[str, str]) -> Detainee | None:
    rn = rn.strip() if isinstance(rn, str) else ""
    if getattr(actor, "is_staff", False):
        if not rn:
            errors["detainee"] = _("Give the detainee's registration number.")
            return None
        try:
            return get_detainee(rn, actor)
        except NotFound:
            errors["detainee"] = _("No detainee with this registration number here.")
            return None
    linked = author_detainees(actor)
    if not rn and len(linked) == 1:
        return linked[0]
    match = next((d for d in linked if d.registration_number == rn), None)
    if match is None:
        errors["detainee"] = (
            _("Choose the detainee concerned.")
            if not rn
            else _("You can only complain about a detainee you are linked to.")
        )
    return match


def _count_today(key: str, day: dt.date) -> None:
    """Take one of the author's complaints of the day, or refuse (a conditional update: two
    requests at once cannot both pass the limit)."""
    sess = db_session()
    ins = pg_insert if sess.get_bind().dialect.name == "postgresql" else sqlite_insert
    sess.execute(
        ins(DailyCount)
        .values(author_key=key, day=day, filed=0)
        .on_conflict_do_nothing(index_elements=["author_key", "day"])
    )
    done = sess.execute(
        update(DailyCount)
        .where(
            DailyCount.author_key == key,
            DailyCount.day == day,
            DailyCount.filed < setting("COMPLAINTS_DAILY_LIMIT"),
        )
        .values(filed=DailyCount.filed + 1)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise TooManyRequests(
            ngettext(
                "You have filed %(num)d complaint today, the most a day: file again tomorrow.",
                "You have filed %(num)d complaints today, the most a day: file again tomorrow.",
                setting("COMPLAINTS_DAILY_LIMIT"),
            ),
            retry_after=3600,
            code="daily_limit",
        )


def new_reference(year: int) -> str:
    """``PL-2026-00042``: the year and a counter, easy to read out on the phone."""
    return f"PL-{year}-{next_counter(f'complaints-{year}'):05d}"


def _staff_by_ids(ids: Sequence[Any], establishment_id: int, errors: dict[str, str]) -> list[User]:
    out: list[User] = []
    for raw in ids:
        try:
            uid = int(raw)
        except (TypeError, ValueError):
            errors["named_staff"] = _("Choose staff members from the list.")
            continue
        user = db_session().get(User, uid)
        if user is None or not user.is_staff:
            errors["named_staff"] = _("Choose staff members from the list.")
            continue
        out.append(user)
    return out


def file_complaint(
    actor: User,
    *,
    category: Any,
    subject: Any,
    body: Any,
    detainee: Any = None,
    confidential: bool = False,
    channel: Any = None,
    named_staff: Sequence[Any] = (),
    uploads: Sequence[Upload] = (),
) -> Complaint:
    """File a complaint and acknowledge it: a reference, a due date, the author notified."""
    require(actor, FILE)
    errors: dict[str, str] = {}
    staff = bool(getattr(actor, "is_staff", False))
    codes = {c.code: c for c in all_categories()}
    cat = codes.get(category) if isinstance(category, str) else None
    if cat is None:
        errors["category"] = _("Choose a category from the list.")
    subject_text = clean_line(subject, "subject", errors, max_len=SUBJECT_MAX)
    body_text = clean_text(body, "body", errors)
    if staff:
        try:
            chan = Channel(channel or "")
        except ValueError:
            chan = None
        if chan is None or chan is Channel.online:
            errors["channel"] = _("Say how the complaint reached you.")
    else:
        chan = Channel.online
    det = _detainee_for(actor, detainee, errors)
    files = check_uploads(uploads, errors)
    named = _staff_by_ids(named_staff, det.establishment_id if det else 0, errors) if staff else []
    raise_if(errors)
    assert det is not None and cat is not None and chan is not None

    det = lock_detainee(det)  # the lock order: the detainee row first
    _count_today(f"user:{actor.id}" if not staff else f"detainee:{det.id}", local_today())
    return record(
        actor,
        det,
        author=None if staff else actor,
        category=cat,
        channel=chan,
        subject=subject_text,
        body=body_text,
        confidential=bool(confidential),
        files=files,
        named=named,
    )


def record(
    actor: Any,
    det: Detainee,
    *,
    author: User | None,
    category: ComplaintCategory,
    channel: Channel,
    subject: str,
    body: str,
    confidential: bool = False,
    files: Sequence[tuple[str, str, bytes]] = (),
    named: Sequence[User] = (),
    received_at: dt.datetime | None = None,
) -> Complaint:
    """Write a complaint already checked by :func:`file_complaint` (and demo data, which
    files for the demo families): reference, due date, acknowledgement, audit."""
    now = received_at or utcnow()
    day = local_day(now)
    due = add_working_days(day, setting("COMPLAINTS_ANSWER_DAYS"))
    cat, chan, subject_text, body_text = category, channel, subject, body
    complaint = Complaint(
        reference=new_reference(day.year),
        establishment_id=det.establishment_id,
        detainee_id=det.id,
        author_id=author.id if author is not None else None,
        filed_by_id=getattr(actor, "id", None),
        channel=chan,
        category=cat.code,
        office=cat.office,
        subject=subject_text,
        body=body_text,
        confidential=bool(confidential),
        status=Status.received,
        received_at=now,
        due_on=due,
        first_due_on=due,
        updated_at=now,
    )
    sess = db_session()
    sess.add(complaint)
    sess.flush()
    for name, content_type, data in files:
        sess.add(
            Attachment(
                complaint_id=complaint.id,
                filename=name,
                content_type=content_type,
                size=len(data),
                data=data,
            )
        )
    for user in {u.id: u for u in named}.values():
        sess.add(NamedStaff(complaint_id=complaint.id, user_id=user.id))
    sess.flush()
    sess.refresh(complaint)
    add_entry(
        complaint, EntryKind.status, actor, to_status=Status.received.value, visible_to_author=True
    )
    audit.record(
        "complaints.file",
        "complaints_complaint",
        complaint.reference,
        establishment_id=complaint.establishment_id,
        summary={
            "category": cat.code,
            "channel": chan.value,
            "confidential": complaint.confidential,
            "detainee": det.registration_number,
            "attachments": len(files),
            "due_on": complaint.due_on.isoformat(),
        },
        actor=actor,
    )
    notify_received(complaint)
    return complaint


def may_file_for_others(user: Any) -> bool:
    return bool(getattr(user, "is_staff", False)) and has_permission(user, FILE)


def find_staff(establishment_id: int) -> list[User]:
    """Staff of an establishment, for the "staff named" list."""
    from core.identity.models import UserEstablishment

    return list(
        db_session().scalars(
            select(User)
            .join(UserEstablishment, UserEstablishment.user_id == User.id)
            .where(UserEstablishment.establishment_id == establishment_id, User.is_active.is_(True))
            .order_by(User.full_name)
        )
    )
