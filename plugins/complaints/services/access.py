"""Who sees and who handles a complaint.

- Its **author** (the family member who filed it) sees it, with the answers (never the notes).
- At its establishment: the complaints office and the director (``complaints.manage``) see
  every complaint but the confidential ones; the office the category routes to
  (``complaints.handle`` + the office's role) sees those routed to it.
- A **confidential** complaint: at the establishment only holders of
  ``complaints.confidential`` (the director).
- The central level (``complaints.appeals``) sees every complaint and handles every appeal.
- A regional reviewer (``complaints.regional``, the role ``regional_complaints_reviewer``
  assigned the establishments of a region) sees the appealed, not confidential complaints of
  those establishments and handles the appeals at the regional level (``appeal_level``); an
  appeal goes to the regional level when the establishment has a regional reviewer
  (:func:`appeal_level_for`), else to the central level.
- Staff named in a complaint never handle it.
Anyone else gets 404 (not 403: the service reveals nothing).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, false, or_, select

from core.errors import Forbidden, NotFound
from core.identity.services import has_permission
from core.principals import is_system
from core.scoping import can_see_establishment, establishment_ids

from ..models import AppealLevel, Complaint
from ..permissions import APPEALS, CONFIDENTIAL, HANDLE, MANAGE, REGIONAL
from .workflow import APPEAL_STATUSES


def is_author(user: Any, complaint: Complaint) -> bool:
    return complaint.author_id is not None and complaint.author_id == getattr(user, "id", None)


def _local_sees(user: Any, complaint: Complaint) -> bool:
    """Staff of the establishment (the office, the director, the routed office)."""
    if not can_see_establishment(user, complaint.establishment_id):
        return False
    if complaint.confidential:
        return has_permission(user, CONFIDENTIAL)
    if has_permission(user, MANAGE):
        return True
    return has_permission(user, HANDLE) and complaint.office in user.roles


def _regional_sees(user: Any, complaint: Complaint) -> bool:
    """A regional reviewer: the appealed, not confidential complaints of the region."""
    return (
        has_permission(user, REGIONAL)
        and not complaint.confidential
        and complaint.appealed_at is not None
        and can_see_establishment(user, complaint.establishment_id)
    )


def _staff_sees(user: Any, complaint: Complaint) -> bool:
    if is_system(user):
        return True
    if not getattr(user, "is_staff", False):
        return False
    if has_permission(user, APPEALS):
        return True
    return _local_sees(user, complaint) or _regional_sees(user, complaint)


def is_regional_reviewer(user: Any, complaint: Complaint) -> bool:
    """May ``user`` act on this appeal as its regional reviewer?"""
    return (
        complaint.status in APPEAL_STATUSES
        and complaint.appeal_level is AppealLevel.regional
        and _regional_sees(user, complaint)
    )


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
    if is_system(user) or has_permission(user, APPEALS):
        return True
    if complaint.status in APPEAL_STATUSES:
        return is_regional_reviewer(user, complaint)
    return _local_sees(user, complaint)


def ensure_handler(user: Any, complaint: Complaint) -> None:
    ensure_readable(user, complaint)
    if not _staff_sees(user, complaint):
        raise Forbidden(_("You are not allowed to do this."))
    if is_named(user, complaint):
        raise Forbidden(
            _("You are named in this complaint: someone else must handle it."), code="named_staff"
        )
    if not can_handle(user, complaint):
        if complaint.status in APPEAL_STATUSES:
            raise Forbidden(
                _("Appeals are handled at the regional or central level."), code="appeal_level"
            )
        raise Forbidden(_("You are not allowed to do this."))


@dataclass(frozen=True)
class Reader:
    """What decides which complaints a staff member's lists show: the inputs of
    :func:`staff_filter` and of the establishment scope, and nothing else (a statement built
    for one reader is right for every user with the same one)."""

    everything: bool  # SYSTEM or the central level (``complaints.appeals``)
    staff: bool
    regional: bool
    manage: bool
    handled_offices: tuple[str, ...]  # ``complaints.handle``: the offices of one's roles
    confidential: bool
    establishments: tuple[int, ...] | None  # ``None``: every establishment


def reader_of(user: Any) -> Reader:
    everything = is_system(user) or has_permission(user, APPEALS)
    staff = everything or bool(getattr(user, "is_staff", False))
    handles = staff and not everything and has_permission(user, HANDLE)
    ids = establishment_ids(user)
    return Reader(
        everything=everything,
        staff=staff,
        regional=staff and not everything and has_permission(user, REGIONAL),
        manage=staff and not everything and has_permission(user, MANAGE),
        handled_offices=tuple(sorted(user.roles)) if handles else (),
        confidential=staff and not everything and has_permission(user, CONFIDENTIAL),
        establishments=None if ids is None else tuple(sorted(ids)),
    )


def _filter_for(reader: Reader) -> Any:
    if reader.everything:
        return None
    if not reader.staff:
        return false()
    parts = []
    if reader.regional:
        parts.append(and_(Complaint.confidential.is_(False), Complaint.appealed_at.is_not(None)))
    if reader.manage:
        parts.append(Complaint.confidential.is_(False))
    elif reader.handled_offices:
        parts.append(
            and_(Complaint.confidential.is_(False), Complaint.office.in_(reader.handled_offices))
        )
    if reader.confidential:
        parts.append(Complaint.confidential.is_(True))
    return or_(*parts) if parts else false()


def staff_filter(user: Any) -> Any:
    """The SQL condition matching the complaints a staff member sees (the establishment scope
    is added by the query layer)."""
    return _filter_for(reader_of(user))


def staff_select(user: Any) -> Any:
    """``SELECT complaints`` a staff member sees, the establishment scope written out (so that
    counts over a subquery, which the query layer's listener does not see, are scoped too).
    Built once per :class:`Reader` (a statement is immutable: callers add to copies)."""
    return select_for(reader_of(user))


@functools.lru_cache(maxsize=1024)
def select_for(reader: Reader) -> Any:
    stmt = select(Complaint)
    if reader.establishments is not None:
        ids = reader.establishments
        stmt = stmt.where(Complaint.establishment_id.in_(ids) if ids else false())
    cond = _filter_for(reader)
    return stmt if cond is None else stmt.where(cond)


def sees_complaints(user: Any) -> bool:
    """Does the user have a complaints queue at all?"""
    return any(has_permission(user, p) for p in (MANAGE, HANDLE, CONFIDENTIAL, APPEALS, REGIONAL))


def regional_reviewers(establishment_id: int) -> list[Any]:
    """Active regional reviewers (roles holding ``complaints.regional``) assigned the
    establishment (their region)."""
    from .notify import holders

    return holders(REGIONAL, establishment_id)


def appeal_level_for(complaint: Complaint) -> AppealLevel:
    """Where an appeal goes: the region when it has a reviewer (never a confidential
    complaint: only the director and the central level see those), else the central level."""
    if not complaint.confidential and regional_reviewers(complaint.establishment_id):
        return AppealLevel.regional
    return AppealLevel.central
