"""The transitions of a transfer: request, approve, accept, refuse, schedule, depart, complete,
cancel, and a director's override of blockers. Every one checks the machine
(:mod:`.machine`: the status, the permission and the side), moves the status with a
conditional ``UPDATE … WHERE status IN (…)`` (two officers at once: one wins, the other gets
409), writes the timeline and the audit trail. Never commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core import vetoes
from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees import services as detainees
from core.detainees.models import Detainee, LegalStatus
from core.errors import Blocked, Conflict, DomainError, Forbidden, ValidationFailed
from core.identity.services import has_permission, require
from core.principals import Principal
from core.vetoes import Blocker, MoveContext
from plugins.transfers.models import (
    MoveKind,
    Reason,
    RefusalReason,
    Transfer,
    TransferEvent,
    TransferOverride,
    TransferStatus,
)
from plugins.transfers.services import machine
from plugins.transfers.services.common import (
    clean_text,
    establishment_by_code,
    on_side,
    raise_if,
    today_local,
)

AUDIT_TYPE = "transfers_transfer"
MAX_DATE = dt.date(2999, 12, 31)


def _username(actor: Principal) -> str:
    return getattr(actor, "username", "") or "system"


def _forbidden() -> Forbidden:
    return Forbidden(_("You are not allowed to do this."))


def may(actor: Principal, action: str, transfer: Transfer) -> bool:
    """May ``actor`` make ``action`` on ``transfer`` now (status, permission and side)?"""
    t = machine.TRANSITIONS.get(action)
    if t is None or transfer.status.value not in t.sources:
        return False
    return has_permission(actor, t.permission) and on_side(actor, transfer, t.side)


def allowed_actions(actor: Principal, transfer: Transfer) -> list[str]:
    """The next steps this user may take (the transfer page shows these and no other)."""
    return [a for a in machine.next_actions(transfer.status.value) if may(actor, a, transfer)]


def _check(actor: Principal, action: str, transfer: Transfer) -> machine.Transition:
    t = machine.TRANSITIONS[action]
    require(actor, t.permission)
    if not on_side(actor, transfer, t.side):
        raise _forbidden()
    return machine.transition(action, transfer.status.value)


def _event(
    transfer: Transfer, action: str, before: str, after: str, actor: Principal, note: str = ""
) -> None:
    db_session().add(
        TransferEvent(
            transfer_id=transfer.id,
            action=action,
            from_status=before,
            to_status=after,
            actor_username=_username(actor),
            note=note[:500],
            at=utcnow(),
        )
    )


def _audit(action: str, transfer: Transfer, actor: Principal, summary: Mapping[str, Any]) -> None:
    audit.record(
        f"transfers.{action}",
        AUDIT_TYPE,
        str(transfer.id),
        establishment_id=transfer.origin_id,
        summary={"detainee": transfer.detainee.registration_number, **summary},
        actor=actor,
    )


def _move(
    transfer: Transfer,
    action: str,
    actor: Principal,
    *,
    note: str = "",
    values: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> Transfer:
    """Move the status along ``action`` if it still is one the machine allows (conditional
    update: the loser of a race gets 409), then timeline and audit."""
    t = machine.TRANSITIONS[action]
    before = transfer.status.value
    now = utcnow()
    result = db_session().execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status.in_(t.sources))
        .values(status=t.target, updated_at=now, **dict(values or {})),
        execution_options={"synchronize_session": False},
    )
    if result.rowcount != 1:
        db_session().expire(transfer)
        raise Conflict(
            _(
                "Someone else changed this transfer a moment ago: it is no longer %(status)s.",
                status=_status_words(before),
            ),
            code="invalid_transition",
        )
    db_session().expire(transfer)
    _event(transfer, action, before, t.target, actor, note)
    _audit(action, transfer, actor, {"status": [before, t.target], **dict(summary or {})})
    db_session().flush()
    return transfer


def _status_words(code: str) -> str:
    from plugins.transfers.services.labels import status_label

    return status_label(code)


# --------------------------------------------------------------------------------------------
# Vetoes
# --------------------------------------------------------------------------------------------


def move_context(transfer: Transfer, actor: Principal, day: dt.date | None = None) -> MoveContext:
    return MoveContext(
        detainee=transfer.detainee,
        origin=transfer.origin,
        destination=transfer.destination,
        actor=actor,
        kind=transfer.kind.value,
        reason=transfer.reason.value,
        date=day or transfer.scheduled_for or transfer.planned_for or today_local(),
    )


def waived(transfer: Transfer) -> set[tuple[str, str]]:
    return {(o.module, o.code) for o in transfer.overrides}


def blockers(transfer: Transfer, actor: Principal) -> list[Blocker]:
    """What the modules say stops this transfer now (shown on its page and in the API)."""
    if not transfer.is_active:
        return []
    return vetoes.ask(
        "transfer_blockers",
        detainee=transfer.detainee,
        destination=transfer.destination,
        context=move_context(transfer, actor),
    )


def standing(transfer: Transfer, found: list[Blocker]) -> list[Blocker]:
    """The blockers no director has gone ahead over."""
    done = waived(transfer)
    return [b for b in found if not (b.overridable and (b.module, b.code) in done)]


def _check_vetoes(transfer: Transfer, actor: Principal) -> list[Blocker]:
    found = blockers(transfer, actor)
    left = standing(transfer, found)
    if left:
        raise Blocked(vetoes.MOVE_BLOCKED, left)
    return found


def _record_overrides(
    transfer: Transfer, found: list[Blocker], actor: Principal, reason: str
) -> list[Blocker]:
    """A director goes ahead over every standing overridable blocker, saying why."""
    require(actor, "transfers.override")
    if not vetoes.may_override(actor, [b for b in found if b.overridable] or found):
        raise _forbidden()
    done = waived(transfer)
    new = [b for b in found if b.overridable and (b.module, b.code) not in done]
    for b in new:
        transfer.overrides.append(
            TransferOverride(
                module=b.module,
                code=b.code,
                message=str(b.message)[:500],
                reason=reason,
                actor_username=_username(actor),
                at=utcnow(),
            )
        )
    if new:
        db_session().flush()
        _event(transfer, "override", transfer.status.value, transfer.status.value, actor, reason)
        _audit(
            "override",
            transfer,
            actor,
            {"overridden": [f"{b.module}.{b.code}" for b in new], "reason": reason},
        )
    return new


def override(transfer: Transfer, actor: Principal, *, reason: Any) -> list[Blocker]:
    """A director of the origin goes ahead over the transfer's overridable blockers (with a
    reason; audited). Blockers that are not overridable stay (a 422 ``blocked`` lists them)."""
    require(actor, "transfers.override")
    if not on_side(actor, transfer, "origin"):
        raise _forbidden()
    if not transfer.is_active:
        raise machine.transition("override", transfer.status.value)  # raises the 409
    errors: dict[str, str] = {}
    text = clean_text(reason, "reason", limit=300, required=True, errors=errors)
    raise_if(errors)
    found = blockers(transfer, actor)
    if not found:
        raise Conflict(_("Nothing blocks this transfer."), code="nothing_to_override")
    hard = [b for b in found if not b.overridable]
    if hard:
        raise Blocked(vetoes.MOVE_BLOCKED, hard)
    return _record_overrides(transfer, found, actor, text)


# --------------------------------------------------------------------------------------------
# Request
# --------------------------------------------------------------------------------------------


def _parse_date(value: Any, field: str, errors: dict[str, str]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        try:
            day = dt.date.fromisoformat(str(value).strip())
        except ValueError:
            errors[field] = _("Not a valid date (YYYY-MM-DD).")
            return None
    if not dt.date(1900, 1, 1) <= day <= MAX_DATE:
        errors[field] = _("Not a valid date (YYYY-MM-DD).")
        return None
    return day


def validate_request(data: Mapping[str, Any], origin_id: int) -> dict[str, Any]:
    """Check a request's fields (per-field localised messages): kind, reason codes, ``other``
    with text, destination (required for a transfer or a hand-over, another establishment;
    a court or hospital trip without one returns to the origin)."""
    errors: dict[str, str] = {}
    kind = str(data.get("kind") or "transfer")
    if kind not in MoveKind.__members__:
        errors["kind"] = _("Choose a kind of move from the list.")
    reason = str(data.get("reason") or "")
    if reason not in Reason.__members__:
        errors["reason"] = _("Choose a reason from the list.")
    reason_text = clean_text(data.get("reason_text"), "reason_text", limit=300, errors=errors)
    if reason == "other" and not reason_text and "reason_text" not in errors:
        errors["reason_text"] = _("Say what the reason is.")
    place = clean_text(data.get("place"), "place", limit=200, errors=errors)
    note = clean_text(data.get("note"), "note", limit=500, errors=errors)
    planned_for = _parse_date(data.get("planned_for"), "planned_for", errors)
    if planned_for is not None and planned_for < today_local():
        errors["planned_for"] = _("Choose a day from today on.")
    destination = None
    code = data.get("destination")
    if code:
        try:
            destination = establishment_by_code(code)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    elif kind in ("transfer", "handover"):
        errors["destination"] = _("Choose the destination.")
    if destination is not None:
        if not destination.active:
            errors["destination"] = _("This establishment is closed.")
        elif destination.id == origin_id and kind in ("transfer", "handover"):
            errors["destination"] = _("The detainee is already held there.")
    returns = destination is None or destination.id == origin_id
    if kind in ("court", "hospital") and returns and not place and "place" not in errors:
        errors["place"] = _("Name the court or the hospital.")
    raise_if(errors)
    return {
        "kind": kind,
        "reason": reason,
        "reason_text": reason_text if reason == "other" else "",
        "place": place,
        "note": note,
        "planned_for": planned_for,
        "destination": destination,
    }


def active_transfer_of(det: Detainee) -> Transfer | None:
    from plugins.transfers.models import ACTIVE_STATUSES

    return db_session().scalar(
        select(Transfer).where(Transfer.detainee_id == det.id, Transfer.status.in_(ACTIVE_STATUSES))
    )


def _already_active() -> Conflict:
    return Conflict(_("This detainee already has a transfer under way."), code="transfer_active")


def request_transfer(
    det: Detainee,
    data: Mapping[str, Any],
    actor: Principal,
    *,
    on_authority_of_module: bool = False,
    override_reason: str = "",
    bulk_id: int | None = None,
) -> Transfer:
    """Request a move of ``det`` from where they are held. The transfers officer of the origin
    (or, through the ``transfers.requests`` port, another module on its own authority).

    Takes the detainee's lock first, refuses a second active transfer (409
    ``transfer_active``; the partial unique index decides a race), asks the modules'
    ``transfer_blockers`` (422 ``blocked`` unless a director overrides all of them)."""
    if not on_authority_of_module:
        require(actor, machine.REQUEST.permission)
    from core.scoping import can_see_establishment

    if not on_authority_of_module and not can_see_establishment(actor, det.establishment_id):
        raise _forbidden()
    detainees.lock_detainee(det)
    if det.is_released:
        raise Conflict(_("A released detainee cannot be moved."), code="released")
    clean = validate_request(data, det.establishment_id)
    if active_transfer_of(det) is not None:
        raise _already_active()
    origin = det.establishment
    destination = clean.pop("destination") or origin
    clean["kind"] = MoveKind(clean["kind"])
    clean["reason"] = Reason(clean["reason"])
    transfer = Transfer(
        detainee_id=det.id,
        origin_id=origin.id,
        destination_id=destination.id,
        status=TransferStatus.requested,
        requested_by=_username(actor),
        bulk_id=bulk_id,
        **clean,
    )
    transfer.detainee = det
    transfer.origin = origin
    transfer.destination = destination
    found = vetoes.ask(
        "transfer_blockers",
        detainee=det,
        destination=destination,
        context=move_context(transfer, actor),
    )
    if found and not (override_reason and vetoes.may_override(actor, found)):
        raise Blocked(vetoes.MOVE_BLOCKED, found)
    sess = db_session()
    try:
        with sess.begin_nested():
            sess.add(transfer)
            sess.flush()
    except IntegrityError as exc:
        if "active_detainee" in str(exc.orig) or "detainee_id" in str(exc.orig):
            raise _already_active() from exc
        raise
    _event(transfer, "request", "", machine.REQUESTED, actor, clean["note"])
    _audit(
        "request",
        transfer,
        actor,
        {
            "status": machine.REQUESTED,
            "kind": clean["kind"].value,
            "reason": clean["reason"].value,
            "destination": destination.code,
        },
    )
    if found:
        _record_overrides(transfer, found, actor, override_reason)
    sess.flush()
    return transfer


# --------------------------------------------------------------------------------------------
# The steps
# --------------------------------------------------------------------------------------------


def approve(
    transfer: Transfer,
    actor: Principal,
    *,
    judicial_authorisation: Any = "",
    override_reason: Any = "",
) -> Transfer:
    """The director of the origin approves. A pretrial detainee needs the judicial
    authorisation's reference. The modules are asked again; a director may go ahead over
    overridable blockers with a reason."""
    _check(actor, "approve", transfer)
    errors: dict[str, str] = {}
    ref = clean_text(judicial_authorisation, "judicial_authorisation", limit=100, errors=errors)
    reason = clean_text(override_reason, "override_reason", limit=300, errors=errors)
    if transfer.detainee.legal_status == LegalStatus.pretrial and not ref and not errors:
        errors["judicial_authorisation"] = _(
            "A pretrial detainee is moved only with a judicial authorisation: give its reference."
        )
    raise_if(errors)
    detainees.lock_detainee(transfer.detainee)
    found = blockers(transfer, actor)
    if reason and standing(transfer, found):
        hard = [b for b in standing(transfer, found) if not b.overridable]
        if not hard:
            _record_overrides(transfer, found, actor, reason)
    left = standing(transfer, found)
    if left:
        raise Blocked(vetoes.MOVE_BLOCKED, left)
    values = {"judicial_authorisation": ref} if ref else {}
    return _move(
        transfer,
        "approve",
        actor,
        values=values,
        note=ref,
        summary={"judicial_authorisation": ref} if ref else None,
    )


def accept(transfer: Transfer, actor: Principal, *, note: Any = "") -> Transfer:
    """The destination (director or transfers officer) accepts the detainee."""
    _check(actor, "accept", transfer)
    errors: dict[str, str] = {}
    text = clean_text(note, "note", limit=300, errors=errors)
    raise_if(errors)
    return _move(transfer, "accept", actor, note=text)


def refuse(transfer: Transfer, actor: Principal, *, reason: Any, note: Any = "") -> Transfer:
    """The destination refuses: no space, more information needed, or security."""
    _check(actor, "refuse", transfer)
    errors: dict[str, str] = {}
    code = str(reason or "")
    if code not in RefusalReason.__members__:
        errors["reason"] = _("Choose a reason from the list.")
    text = clean_text(note, "note", limit=300, errors=errors)
    raise_if(errors)
    return _move(
        transfer,
        "refuse",
        actor,
        note=text,
        values={"refusal_reason": code, "closing_note": text},
        summary={"refusal_reason": code},
    )


def schedule(
    transfer: Transfer, actor: Principal, *, date: Any, escort: Any = "", vehicle: Any = ""
) -> Transfer:
    """The origin's transfers officer sets the day, the escort team and the vehicle."""
    _check(actor, "schedule", transfer)
    errors: dict[str, str] = {}
    day = _parse_date(date, "date", errors)
    if day is None and "date" not in errors:
        errors["date"] = _("Choose the day of the move.")
    elif day is not None and day < today_local():
        errors["date"] = _("Choose a day from today on.")
    team = clean_text(escort, "escort", limit=300, errors=errors)
    car = clean_text(vehicle, "vehicle", limit=60, errors=errors)
    raise_if(errors)
    return _move(
        transfer,
        "schedule",
        actor,
        values={"scheduled_for": day, "escort": team, "vehicle": car},
        summary={"date": day.isoformat() if day else "", "vehicle": car},
    )


def depart(transfer: Transfer, actor: Principal) -> Transfer:
    """The detainee leaves the origin. The modules are asked once more: nothing may stand
    but blockers a director went ahead over."""
    _check(actor, "depart", transfer)
    detainees.lock_detainee(transfer.detainee)
    if transfer.detainee.is_released:
        raise Conflict(_("A released detainee cannot be moved."), code="released")
    _check_vetoes(transfer, actor)
    return _move(transfer, "depart", actor, values={"departed_at": utcnow()})


def complete(transfer: Transfer, actor: Principal) -> Transfer:
    """The detainee arrived: in ONE transaction the transfer is completed and — for a move to
    another establishment — ``core.detainees.services.move`` changes where the detainee is
    held, writes the placement history and fires ``on_detainee_transferred`` (visits cancels
    the origin's future bookings and tells the families, funds moves the account…). If any
    module's reaction raises, the caller rolls back and nothing moves. A second completion is
    a 409."""
    _check(actor, "complete", transfer)
    det = transfer.detainee
    detainees.lock_detainee(det)  # the lock order: the detainee first, then our row
    _move(transfer, "complete", actor, values={"completed_at": utcnow()})
    if transfer.destination_id != transfer.origin_id:
        if det.establishment_id != transfer.origin_id:
            raise Conflict(
                _("The detainee is no longer held at the origin of this transfer."),
                code="moved_elsewhere",
            )
        try:
            detainees.move(
                det,
                transfer.destination,
                actor,
                reason="transfer",
                note=f"transfer {transfer.id}",
                kind=transfer.kind.value,
                waived=waived(transfer),
            )
        except DomainError:
            raise  # a module's own refusal, in its words
        except Exception as exc:  # a module's reaction broke: say so; the caller rolls back
            raise Conflict(
                _(
                    "The move was not made: a module failed while following the detainee "
                    "(%(error)s).",
                    error=type(exc).__name__,
                ),
                code="reaction_failed",
            ) from exc
    return transfer


def cancel(transfer: Transfer, actor: Principal, *, reason: Any) -> Transfer:
    """A transfers officer or a director of the origin or destination cancels, saying why,
    at any step before completion."""
    _check(actor, "cancel", transfer)
    errors: dict[str, str] = {}
    text = clean_text(reason, "reason", limit=300, required=True, errors=errors)
    raise_if(errors)
    return _move(
        transfer,
        "cancel",
        actor,
        note=text,
        values={"closing_note": text},
        summary={"reason": text},
    )
