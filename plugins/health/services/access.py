"""Who may open a health file, and the trail every opening leaves.

- The **care team** (a doctor, nurse or head doctor linked to the detainee's *current*
  establishment, holding ``health.read``) reads and writes. The query layer's scoping finds
  the file; the role and the establishment link are checked here, whatever permissions an
  administrator grants.
- **Emergency access**: a clinician of another establishment, or the medical inspector, gives a
  reason and may open the file for ``HEALTH_EMERGENCY_HOURS`` (4 by default). The file is then
  read through :func:`core.scoping.unscoped` — the core's audited bypass, never around it —
  the grant and every read are flagged ``emergency`` in the audit trail, and the
  establishment's head doctors are told through the outbox.
- Everybody else (directors, auditors, clerks…) never gets contents: 403.

Every opening writes one audit event (``health_file.read``, the core's sensitive read) and one
line of the detainee's access log (who, when, from where, why, emergency or not).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.detainees.services import REGNO_RE
from core.errors import Conflict, Forbidden, NotFound
from core.identity.models import User, UserEstablishment, UserRole
from core.identity.services import has_permission
from core.notifications.services import enqueue
from core.paging import fetch_page
from core.principals import SYSTEM, acting_as
from core.scoping import unscoped
from core.validation import ascii_digits
from plugins.health.models import AccessLog, EmergencyAccess, HealthFile
from plugins.health.permissions import (
    CARE_ROLES,
    DOCTOR_ROLES,
    EMERGENCY,
    EMERGENCY_ROLES,
    HEAD_DOCTOR,
    MEDICAL_INSPECTOR,
    READ,
    WRITE,
)
from plugins.health.services.common import clean_text

DEFAULT_EMERGENCY_HOURS = 4


def _roles(user: Any) -> frozenset[str]:
    return frozenset(getattr(user, "roles", ()) or ())


def _links(user: Any) -> frozenset[int]:
    return frozenset(link.establishment_id for link in getattr(user, "establishment_links", ()))


def is_clinician(user: Any) -> bool:
    """A member of a care team somewhere (doctor, nurse, head doctor)."""
    return bool(_roles(user) & CARE_ROLES) and has_permission(user, READ)


def is_doctor(user: Any) -> bool:
    return bool(_roles(user) & DOCTOR_ROLES)


def in_care_team(user: Any, establishment_id: int) -> bool:
    return is_clinician(user) and establishment_id in _links(user)


def may_ask_emergency(user: Any) -> bool:
    return bool(_roles(user) & EMERGENCY_ROLES) and has_permission(user, EMERGENCY)


def emergency_hours() -> int:
    hours = current_app.config.get("HEALTH_EMERGENCY_HOURS") if has_app_context() else None
    try:
        value = int(hours or DEFAULT_EMERGENCY_HOURS)
    except (TypeError, ValueError):
        value = DEFAULT_EMERGENCY_HOURS
    return max(1, min(value, 72))


@dataclass
class FileAccess:
    """An opened file: the detainee, the file, who opened it and under which grant."""

    detainee: Detainee
    file: HealthFile
    user: Any
    emergency: EmergencyAccess | None = None

    @property
    def can_write(self) -> bool:
        if self.user is SYSTEM:
            return True
        if not has_permission(self.user, WRITE):
            return False
        return bool(_roles(self.user) & CARE_ROLES)  # the inspector only reads

    @property
    def is_doctor(self) -> bool:
        return self.user is SYSTEM or is_doctor(self.user)

    @property
    def actor_establishment_id(self) -> int | None:
        """Where the actor works, for the history and the access log: the file's
        establishment for its care team, else their first establishment."""
        links = _links(self.user)
        if self.file.establishment_id in links:
            return self.file.establishment_id
        return min(links) if links else None

    def reading(self) -> Any:
        """The block in which the file's scoped rows are read: the core's audited bypass for
        an emergency access, plain scoping for the care team."""
        if self.emergency is None:
            return nullcontext()
        return unscoped(
            f"health emergency access {self.emergency.id}: {self.emergency.reason}",
            establishment_id=self.file.establishment_id,
        )


def _not_found() -> NotFound:
    return NotFound(_("No health file for this registration number."), code="health_file_not_found")


def clean_rn(rn: str) -> str | None:
    """A registration number as typed (Arabic-Indic digits accepted), or ``None`` when it
    cannot be one (so NUL and other junk never reach the database)."""
    rn = ascii_digits(rn or "").strip()
    return rn if REGNO_RE.match(rn) and len(rn) <= 20 else None


def _find_detainee(rn: str) -> Detainee | None:
    clean = clean_rn(rn)
    if clean is None:
        return None
    return db_session().scalar(select(Detainee).where(Detainee.registration_number == clean))


def _file_of(det: Detainee) -> HealthFile | None:
    return db_session().scalar(select(HealthFile).where(HealthFile.detainee_id == det.id))


def active_emergency(user: Any, detainee_id: int) -> EmergencyAccess | None:
    if getattr(user, "id", None) is None:
        return None
    return db_session().scalar(
        select(EmergencyAccess)
        .where(
            EmergencyAccess.user_id == user.id,
            EmergencyAccess.detainee_id == detainee_id,
            EmergencyAccess.expires_at > utcnow(),
        )
        .order_by(EmergencyAccess.expires_at.desc())
        .limit(1)
    )


def open_file(rn: str, user: Any, *, what: str = "file", write: bool = False) -> FileAccess:
    """Open a detainee's file for ``user`` and leave the trail of the read.

    :raises Forbidden: the user is not a clinician (nor the medical inspector): contents are
        for the care team only; or a write by someone who may only read.
    :raises NotFound: no such detainee or file, or another establishment's without a current
        emergency access (it does not exist for them).
    """
    if user is SYSTEM:
        with acting_as(SYSTEM):
            det = _find_detainee(rn)
            hfile = _file_of(det) if det is not None else None
        if det is None or hfile is None:
            raise _not_found()
        return FileAccess(det, hfile, user)
    if not (is_clinician(user) or may_ask_emergency(user)):
        raise Forbidden(_("Health files are for the care team only."), code="care_team_only")
    acc: FileAccess | None = None
    det = _find_detainee(rn)  # scoped: the user's establishments only
    if det is not None and in_care_team(user, det.establishment_id):
        hfile = _file_of(det)
        if hfile is None and not det.is_released:
            # held since before the module was installed: the file is opened now
            from plugins.health.services.files import open_health_file

            hfile = open_health_file(det, user, due_from=utcnow())
        if hfile is not None:
            acc = FileAccess(det, hfile, user)
    if acc is None and may_ask_emergency(user):
        acc = _emergency_open(rn, user)
    if acc is None:
        raise _not_found()
    if write and not acc.can_write:
        raise Forbidden(_("You may read this file but not write in it."), code="read_only")
    log_read(acc, what)
    return acc


def _emergency_open(rn: str, user: Any) -> FileAccess | None:
    """The file under a current emergency access of ``user``, read through the bypass."""
    clean = clean_rn(rn)
    if clean is None:
        return None
    grant = db_session().scalar(
        select(EmergencyAccess)
        .join(Detainee, Detainee.id == EmergencyAccess.detainee_id)
        .where(
            EmergencyAccess.user_id == user.id,
            EmergencyAccess.expires_at > utcnow(),
            Detainee.registration_number == clean,
        )
        .order_by(EmergencyAccess.expires_at.desc())
        .limit(1)
    )
    if grant is None:
        return None
    with unscoped(
        f"health emergency access {grant.id}: {grant.reason}",
        establishment_id=grant.establishment_id,
    ):
        det = _find_detainee(rn)
        hfile = _file_of(det) if det is not None else None
    if det is None or hfile is None:
        return None
    return FileAccess(det, hfile, user, emergency=grant)


def log_read(acc: FileAccess, what: str) -> None:
    """The audit event (sensitive read) and the access-log line of one opening."""
    reason = acc.emergency.reason if acc.emergency is not None else "care"
    summary: dict[str, Any] = {"what": what}
    if acc.emergency is not None:
        summary.update(emergency=True, reason=reason)
    audit.record_read(
        "health_file",
        acc.detainee.registration_number,
        establishment_id=acc.file.establishment_id,
        summary=summary,
        actor=acc.user,
    )
    db_session().add(
        AccessLog(
            detainee_id=acc.detainee.id,
            user_id=getattr(acc.user, "id", None),
            username=getattr(acc.user, "username", "") or "",
            establishment_id=acc.actor_establishment_id,
            at=utcnow(),
            what=what[:40],
            reason=reason[:500],
            emergency=acc.emergency is not None,
        )
    )
    db_session().flush()


# ---------------------------------------------------------------------------------------------
# Emergency access
# ---------------------------------------------------------------------------------------------


def grant_emergency(rn: str, user: Any, reason: Any) -> EmergencyAccess:
    """Give ``user`` access to another establishment's file for a limited time.

    :raises Forbidden: not a clinician nor the medical inspector.
    :raises NotFound: no such detainee (or no file).
    :raises Conflict: ``not_needed`` — the user is already in the detainee's care team.
    """
    if not may_ask_emergency(user):
        raise Forbidden(_("You are not allowed to do this."))
    reason = clean_text(reason, "reason", required=True, max_len=500)
    with unscoped(f"health emergency access asked: {reason}"):
        det = _find_detainee(rn)
        hfile = _file_of(det) if det is not None else None
    if det is None or hfile is None:
        raise _not_found()
    if in_care_team(user, det.establishment_id):
        raise Conflict(
            _("You are in this detainee's care team: no emergency access is needed."),
            code="not_needed",
        )
    now = utcnow()
    grant = EmergencyAccess(
        detainee_id=det.id,
        user_id=user.id,
        establishment_id=det.establishment_id,
        reason=reason,
        granted_at=now,
        expires_at=now + dt.timedelta(hours=emergency_hours()),
    )
    sess = db_session()
    sess.add(grant)
    sess.flush()
    audit.record(
        "health.emergency.grant",
        "health_file",
        det.registration_number,
        establishment_id=det.establishment_id,
        summary={
            "emergency": True,
            "reason": reason,
            "expires_at": grant.expires_at.isoformat(),
            "inspector": MEDICAL_INSPECTOR in _roles(user),
        },
        actor=user,
    )
    _notify_head_doctors(det, user, grant)
    return grant


def head_doctors(establishment_id: int) -> list[User]:
    with acting_as(SYSTEM):
        return list(
            db_session().scalars(
                select(User)
                .join(UserRole, UserRole.user_id == User.id)
                .join(UserEstablishment, UserEstablishment.user_id == User.id)
                .where(
                    UserRole.role_code == HEAD_DOCTOR,
                    UserEstablishment.establishment_id == establishment_id,
                    User.is_active.is_(True),
                )
                .order_by(User.id)
            )
        )


def _notify_head_doctors(det: Detainee, user: Any, grant: EmergencyAccess) -> None:
    for doctor in head_doctors(det.establishment_id):
        with force_locale(doctor.locale or "ar"):
            subject = _(
                "Emergency access to the health file of %(rn)s by %(name)s",
                rn=det.registration_number,
                name=user.full_name,
            )
            body = _(
                "%(name)s (%(username)s) opened the health file of %(rn)s in an emergency "
                "until %(until)s UTC. Reason: %(reason)s",
                name=user.full_name,
                username=user.username,
                rn=det.registration_number,
                until=grant.expires_at.strftime("%Y-%m-%d %H:%M"),
                reason=grant.reason,
            )
        enqueue(kind="health.emergency_access", subject=subject, body=body, user=doctor)


def record_expiries(now: dt.datetime | None = None) -> int:
    """Write one audit event per emergency access that has expired (the periodic task);
    access itself ends at ``expires_at`` whether or not this ran."""
    now = now or utcnow()
    sess = db_session()
    with acting_as(SYSTEM):
        rows = list(
            sess.scalars(
                select(EmergencyAccess)
                .where(
                    EmergencyAccess.expires_at <= now, EmergencyAccess.expiry_recorded.is_(False)
                )
                .order_by(EmergencyAccess.id)
                .limit(500)
            )
        )
        for grant in rows:
            grant.expiry_recorded = True
            rn = sess.scalar(
                select(Detainee.registration_number).where(Detainee.id == grant.detainee_id)
            )
            audit.record(
                "health.emergency.expire",
                "health_file",
                rn or "",
                establishment_id=grant.establishment_id,
                summary={"emergency": True, "grant": grant.id},
                actor=SYSTEM,
            )
    sess.flush()
    return len(rows)


# ---------------------------------------------------------------------------------------------
# The access log
# ---------------------------------------------------------------------------------------------


def may_see_access_log(user: Any, detainee: Detainee) -> bool:
    from core.scoping import can_see_establishment
    from plugins.health.permissions import ACCESS_LOG

    if not has_permission(user, ACCESS_LOG):
        return False
    if _roles(user) & CARE_ROLES:
        return in_care_team(user, detainee.establishment_id)
    return can_see_establishment(user, detainee.establishment_id)


def access_log(
    rn: str, user: Any, page: int, per_page: int
) -> tuple[Detainee, list[AccessLog], int]:
    """Who opened the file, newest first (paged in SQL): the care team and auditors."""
    det = _find_detainee(rn)
    if det is None:
        if _roles(user) & CARE_ROLES or has_permission(user, "health.access_log"):
            raise _not_found()
        raise Forbidden(_("You are not allowed to do this."))
    if not may_see_access_log(user, det):
        if has_permission(user, "health.access_log"):
            raise _not_found()
        raise Forbidden(_("You are not allowed to do this."))
    base = select(AccessLog).where(AccessLog.detainee_id == det.id)
    order = (AccessLog.at.desc(), AccessLog.id.desc())
    rows, total = fetch_page(db_session(), base, order, page, per_page)
    return det, rows, total


@contextmanager
def as_system() -> Iterator[None]:
    """The module answering on its own authority (a veto, the escort's needs, a transfer)."""
    with acting_as(SYSTEM):
        yield
