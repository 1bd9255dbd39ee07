"""Who sees and who handles a complaint.

- Its **author** (the family member who filed it) sees it, with the answers (never the notes).
- At its establishment: the complaints office and the director (``complaints.manage``) see
  every complaint but the confidential ones; the office the category routes to
  (``complaints.handle`` + the office's role) sees those routed to it.
- A **confidential** complaint: at the establishment only holders of
  ``complaints.confidential`` (the director).
- The regional and central level (``complaints.appeals``) sees every complaint, and alone
  handles appeals.
- Staff named in a complaint never handle it.
Anyone else gets 404 (not 403: the service reveals nothing).
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, false, or_, select

from core.errors import Forbidden, NotFound
from core.identity.services import has_permission
from core.principals import is_system
from core.scoping import can_see_establishment, scope

from ..models import Complaint
from ..permissions import APPEALS, CONFIDENTIAL, HANDLE, MANAGE
from .workflow import APPEAL_STATUSES


def is_author(user: Any, complaint: Complaint) -> bool:
    return complaint.author_id is not None and complaint.author_id == getattr(user, "id", None)


def _staff_sees(user: Any, complaint: Complaint) -> bool:
    if is_system(user):
        return True
    if not getattr(user, "is_staff", False):
        return False
    if has_permission(user, APPEALS):
        return True
    if not can_see_establishment(user, complaint.establishment_id):
        return False
    if complaint.confidential:
        return has_permission(user, CONFIDENTIAL)
    if has_permission(user, MANAGE):
        return True
    return has_permission(user, HANDLE) and complaint.office in user.roles


def can_read(user: Any, complaint: Complaint) -> bool:
    return is_author(user, complaint) or _staff_sees(user, complaint)


def ensure_readable(user: Any, complaint: Complaint | None) -> Complaint:
    if complaint is None or not can_read(user, complaint):
        raise NotFound(_("No such complaint."))
    return complaint


def is_named(user: Any, complaint: Complaint) -> bool:
    uid = getattr(user, "id", None)
    return any(n.user_id == uid for n in complaint.named_staff)


def can_handle(user: Any, complaint: Complaint) -> bool:
    """May ``user`` act on the complaint as the administration (answer, note, re-route…)?"""
    if not _staff_sees(user, complaint) or is_named(user, complaint):
        return False
    if complaint.status in APPEAL_STATUSES:
        return is_system(user) or has_permission(user, APPEALS)
    return True


def ensure_handler(user: Any, complaint: Complaint) -> None:
    ensure_readable(user, complaint)
    if not _staff_sees(user, complaint):
        raise Forbidden(_("You are not allowed to do this."))
    if is_named(user, complaint):
        raise Forbidden(
            _("You are named in this complaint: someone else must handle it."), code="named_staff"
        )
    if not can_handle(user, complaint):
        raise Forbidden(
            _("Appeals are handled at the regional or central level."), code="appeal_level"
        )


def staff_filter(user: Any) -> Any:
    """The SQL condition matching the complaints a staff member sees (the establishment scope
    is added by the query layer)."""
    if is_system(user) or has_permission(user, APPEALS):
        return None
    if not getattr(user, "is_staff", False):
        return false()
    parts = []
    if has_permission(user, MANAGE):
        parts.append(Complaint.confidential.is_(False))
    elif has_permission(user, HANDLE) and user.roles:
        parts.append(
            and_(Complaint.confidential.is_(False), Complaint.office.in_(sorted(user.roles)))
        )
    if has_permission(user, CONFIDENTIAL):
        parts.append(Complaint.confidential.is_(True))
    return or_(*parts) if parts else false()


def staff_select(user: Any) -> Any:
    """``SELECT complaints`` a staff member sees, the establishment scope written out (so that
    counts over a subquery, which the query layer's listener does not see, are scoped too)."""
    stmt = scope(select(Complaint), Complaint.establishment_id, user)
    cond = staff_filter(user)
    return stmt if cond is None else stmt.where(cond)


def sees_complaints(user: Any) -> bool:
    """Does the user have a complaints queue at all?"""
    return any(has_permission(user, p) for p in (MANAGE, HANDLE, CONFIDENTIAL, APPEALS))
