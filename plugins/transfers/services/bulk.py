"""Bulk transfers (a new prison opening): a list of registration numbers, one request per
detainee, each requested, refused or vetoed on its own; the summary is kept on the batch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import Blocked, DomainError, Forbidden
from core.identity.services import require
from core.principals import Principal
from core.scoping import can_see_establishment
from core.validation import ascii_digits
from plugins.transfers.models import BulkBatch
from plugins.transfers.services import workflow
from plugins.transfers.services.common import establishment_by_code, raise_if

MAX_BULK = 5000
RN_RE = re.compile(r"^\d{4}-\d{6,}$")


@dataclass
class BulkResult:
    batch: BulkBatch | None
    requested: list[tuple[str, int]] = field(default_factory=list)  # (rn, transfer id)
    blocked: list[tuple[str, str]] = field(default_factory=list)  # (rn, why)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (rn, why)


def parse_numbers(text: Any) -> list[str]:
    """Registration numbers from a pasted list (lines, commas, spaces; Arabic-Indic digits
    read), in order, without repeats."""
    seen: dict[str, None] = {}
    for token in re.split(r"[\s,;]+", ascii_digits(str(text or ""))):
        if token:
            seen.setdefault(token.strip(), None)
    return list(seen)


def bulk_request(
    origin_code: Any,
    destination_code: Any,
    numbers: list[str],
    data: dict[str, Any],
    actor: Principal,
) -> BulkResult:
    """One request per detainee held at the origin. Each runs in its own savepoint: a vetoed
    or refused one is listed with its reason and the others go on."""
    require(actor, "transfers.request")
    errors: dict[str, str] = {}
    try:
        origin = establishment_by_code(origin_code, "origin")
    except DomainError as exc:
        errors.update(exc.fields)
        origin = None
    try:
        destination = establishment_by_code(destination_code, "destination")
    except DomainError as exc:
        errors.update(exc.fields)
        destination = None
    if not numbers:
        errors["numbers"] = _("Give at least one registration number.")
    elif len(numbers) > MAX_BULK:
        errors["numbers"] = ngettext(
            "At most %(num)d detainee at once.", "At most %(num)d detainees at once.", MAX_BULK
        )
    raise_if(errors)
    assert origin is not None and destination is not None
    if not can_see_establishment(actor, origin.id):
        raise Forbidden(_("You are not allowed to do this."))
    request = {
        "kind": "transfer",
        "destination": destination.code,
        "reason": data.get("reason") or "",
        "reason_text": data.get("reason_text") or "",
        "note": data.get("note") or "",
        "planned_for": data.get("planned_for"),
    }
    workflow.validate_request(request, origin.id)  # the shared fields, once
    sess = db_session()
    batch = BulkBatch(
        origin_id=origin.id,
        destination_id=destination.id,
        reason=request["reason"],
        reason_text=request["reason_text"] if request["reason"] == "other" else "",
        created_by=getattr(actor, "username", "") or "system",
        summary={},
    )
    sess.add(batch)
    sess.flush()
    result = BulkResult(batch)
    valid = [n for n in numbers if RN_RE.match(n)]
    for n in numbers:
        if not RN_RE.match(n):
            result.refused.append((n, _("This is not a registration number.")))
    found = {
        d.registration_number: d
        for d in sess.scalars(
            select(Detainee).where(
                Detainee.registration_number.in_(valid), Detainee.establishment_id == origin.id
            )
        )
    }
    for n in valid:
        det = found.get(n)
        if det is None:
            result.refused.append((n, _("No detainee with this number is held at the origin.")))
            continue
        try:
            with sess.begin_nested():
                transfer = workflow.request_transfer(det, request, actor, bulk_id=batch.id)
            result.requested.append((n, transfer.id))
        except Blocked as exc:
            result.blocked.append((n, "; ".join(exc.reasons)))
        except DomainError as exc:
            result.refused.append((n, str(exc.message)))
    batch.summary = {
        "requested": len(result.requested),
        "blocked": [list(x) for x in result.blocked][:500],
        "refused": [list(x) for x in result.refused][:500],
        "blocked_count": len(result.blocked),
        "refused_count": len(result.refused),
    }
    sess.flush()
    audit.record(
        "transfers.bulk",
        "transfers_bulk",
        str(batch.id),
        establishment_id=origin.id,
        summary={
            "destination": destination.code,
            "requested": len(result.requested),
            "blocked": len(result.blocked),
            "refused": len(result.refused),
        },
        actor=actor,
    )
    return result


@dataclass
class ApprovalResult:
    approved: list[int] = field(default_factory=list)
    blocked: list[tuple[str, str]] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)


def bulk_approve(
    batch: BulkBatch, actor: Principal, *, judicial_authorisation: Any = ""
) -> ApprovalResult:
    """The origin's director approves a bulk transfer's requests, each on its own (its own
    savepoint, its own vetoes; a pretrial detainee needs the reference given): the others go
    on when one is blocked or refused."""
    from plugins.transfers.models import Transfer

    require(actor, "transfers.approve")
    if not can_see_establishment(actor, batch.origin_id):
        raise Forbidden(_("You are not allowed to do this."))
    sess = db_session()
    result = ApprovalResult()
    pending = sess.scalars(
        select(Transfer)
        .where(Transfer.bulk_id == batch.id, Transfer.status == "requested")
        .order_by(Transfer.id)
    ).unique()
    for transfer in list(pending):
        rn = transfer.detainee.registration_number
        try:
            with sess.begin_nested():
                workflow.approve(transfer, actor, judicial_authorisation=judicial_authorisation)
            result.approved.append(transfer.id)
        except Blocked as exc:
            result.blocked.append((rn, "; ".join(exc.reasons)))
        except DomainError as exc:
            why = "; ".join(str(m) for m in exc.fields.values()) or str(exc.message)
            result.refused.append((rn, why))
    return result
