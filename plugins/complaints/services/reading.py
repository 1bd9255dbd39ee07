"""Reading complaints: one by reference (audited), the staff queue (filters, paged in SQL), the
overdue list, a family's own list, a detainee's complaints, the dashboard's figures."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, bindparam, func, select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.driver_reads import keep
from core.paging import fetch_page
from core.principals import Principal
from core.scoping import read_columns

from ..models import Complaint, Entry, Status
from .access import (
    Reader,
    can_handle,
    ensure_readable,
    is_author,
    reader_of,
    select_for,
    staff_select,
)
from .calendar import local_today
from .workflow import OPEN_STATUSES


def find(reference: str) -> Complaint | None:
    ref = (reference or "").strip().upper()
    if not ref or len(ref) > 20 or "\x00" in ref:
        return None
    return db_session().scalar(select(Complaint).where(Complaint.reference == ref))


def get_complaint(reference: str, user: Principal, *, audit_read: bool = True) -> Complaint:
    """The complaint if ``user`` may read it (404 otherwise); the read is audited."""
    complaint = ensure_readable(user, find(reference))
    if audit_read:
        audit.record(
            "complaints_complaint.read",
            "complaints_complaint",
            complaint.reference,
            establishment_id=complaint.establishment_id,
            summary={"as": "author" if is_author(user, complaint) else "staff"},
            actor=user,
        )
    return complaint


def visible_entries(complaint: Complaint, user: Principal) -> list[Entry]:
    """The timeline the reader may see: the author never sees internal notes, nor who acted."""
    if is_author(user, complaint) and not can_handle(user, complaint):
        return [e for e in complaint.entries if e.visible_to_author]
    return list(complaint.entries)


def answers(complaint: Complaint, user: Principal) -> list[Entry]:
    return [e for e in visible_entries(complaint, user) if e.kind.value == "answer"]


@dataclass(frozen=True)
class QueueFilters:
    status: str = ""  # a status code, "open" or "" (all)
    category: str = ""
    establishment_id: int | None = None
    overdue: bool = False
    central: bool = False  # escalated to the central level (still open)
    mine: bool = False
    q: str = ""  # a reference or words of the subject


def _staff_query(user: Principal) -> Select[Any]:
    return staff_select(user)


def queue(
    user: Principal, filters: QueueFilters, page: int, per_page: int
) -> tuple[list[Complaint], int]:
    stmt = _staff_query(user)
    if filters.status == "open":
        stmt = stmt.where(Complaint.status.in_(OPEN_STATUSES))
    elif filters.status in set(Status):
        stmt = stmt.where(Complaint.status == Status(filters.status))
    if filters.category:
        stmt = stmt.where(Complaint.category == filters.category)
    if filters.establishment_id is not None:
        stmt = stmt.where(Complaint.establishment_id == filters.establishment_id)
    if filters.overdue:
        stmt = stmt.where(Complaint.status.in_(OPEN_STATUSES), Complaint.due_on < local_today())
    if filters.central:
        stmt = stmt.where(
            Complaint.status.in_(OPEN_STATUSES), Complaint.central_escalated_at.is_not(None)
        )
    if filters.mine and getattr(user, "id", None) is not None:
        stmt = stmt.where(Complaint.assigned_to_id == user.id)
    if filters.q:
        q = filters.q.strip()[:100]
        stmt = stmt.where((Complaint.reference == q.upper()) | Complaint.subject.ilike(f"%{q}%"))
    return fetch_page(db_session(), stmt, (Complaint.due_on, Complaint.id), page, per_page)


def my_complaints(user: Principal, page: int, per_page: int) -> tuple[list[Complaint], int]:
    stmt = select(Complaint).where(Complaint.author_id == user.id)
    order = (Complaint.received_at.desc(), Complaint.id.desc())
    return fetch_page(db_session(), stmt, order, page, per_page)


def detainee_complaints(detainee: Detainee, user: Principal, limit: int = 10) -> list[Any]:
    """The complaints about ``detainee`` that ``user`` sees, newest first (their profile's
    panel): one statement per kind of reader, built once; rows of what the panel shows
    (``reference``, ``subject``, ``status``, ``due_on``: no ``Complaint`` built for a line)."""
    stmt = _detainee_panel(reader_of(user))
    return list(read_columns(stmt, {"detainee_id": detainee.id, "limit": limit}))


@functools.lru_cache(maxsize=1024)
def _detainee_panel(reader: Reader) -> Any:
    return keep(  # built once per kind of reader: compiled once, sent to the driver
        select_for(reader)
        .where(Complaint.detainee_id == bindparam("detainee_id"))
        .with_only_columns(
            Complaint.reference, Complaint.subject, Complaint.status, Complaint.due_on
        )
        .order_by(Complaint.received_at.desc())
        .limit(bindparam("limit", type_=Integer))
    )


def is_overdue(complaint: Complaint, today: dt.date | None = None) -> bool:
    return complaint.status in OPEN_STATUSES and complaint.due_on < (today or local_today())


@dataclass(frozen=True)
class Dashboard:
    open: int
    overdue: int
    due_this_week: int


def dashboard(user: Principal) -> Dashboard:
    today = local_today()
    week_end = today + dt.timedelta(days=6 - today.weekday())
    base = _staff_query(user).where(Complaint.status.in_(OPEN_STATUSES)).subquery()
    row = (
        db_session()
        .execute(
            select(
                func.count(),
                func.count().filter(base.c.due_on < today),
                func.count().filter(base.c.due_on >= today, base.c.due_on <= week_end),
            ).select_from(base)
        )
        .one()
    )
    return Dashboard(int(row[0]), int(row[1]), int(row[2]))
