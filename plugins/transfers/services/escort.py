"""The escort record of a move (risk flags, property, seal numbers) and the health section the
escort may read: "fit / needs: …" from the ``transfers_escort_health`` hook, never a diagnosis."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from core.audit import services as audit
from core.contributions import EscortHealth
from core.db import session as db_session
from core.errors import Forbidden
from core.identity.services import require
from core.plugins import PluginError, get_plugin_manager
from core.principals import Principal
from plugins.transfers.models import EscortRecord, Transfer
from plugins.transfers.services.common import clean_text, on_side, raise_if

FLAGS = ("risk_escape", "risk_violence", "risk_self_harm", "hold_separately")


def escort_record(transfer: Transfer) -> EscortRecord:
    """The transfer's escort record (an empty one, not stored, when nobody filled it)."""
    found = db_session().get(EscortRecord, transfer.id)
    return found if found is not None else EscortRecord(transfer_id=transfer.id, bags=0)


def update_escort(transfer: Transfer, data: dict[str, Any], actor: Principal) -> EscortRecord:
    """The origin's transfers officer fills the risks and the property (audited)."""
    require(actor, "transfers.escort")
    if not on_side(actor, transfer, "origin"):
        raise Forbidden(_("You are not allowed to do this."))
    errors: dict[str, str] = {}
    seals = clean_text(data.get("seal_numbers"), "seal_numbers", limit=300, errors=errors)
    notes = clean_text(data.get("notes"), "notes", limit=500, errors=errors)
    bags_raw = data.get("bags", 0)
    try:
        bags = int(str(bags_raw if bags_raw not in (None, "") else 0).strip())
    except ValueError:
        bags = -1
    if not 0 <= bags <= 99:
        errors["bags"] = _("A number from 0 to 99.")
    raise_if(errors)
    sess = db_session()
    record = sess.get(EscortRecord, transfer.id)
    if record is None:
        record = EscortRecord(transfer_id=transfer.id)
        sess.add(record)
    before = {f: bool(getattr(record, f) or False) for f in FLAGS}
    for flag in FLAGS:
        setattr(record, flag, bool(data.get(flag)))
    record.bags = bags
    record.seal_numbers = seals
    record.notes = notes
    record.updated_by = getattr(actor, "username", "") or "system"
    sess.flush()
    audit.record(
        "transfers.escort.update",
        "transfers_transfer",
        str(transfer.id),
        establishment_id=transfer.origin_id,
        summary={
            **{
                f: [before[f], getattr(record, f)] for f in FLAGS if before[f] != getattr(record, f)
            },
            "bags": bags,
            "seal_numbers": seals,
        },
        actor=actor,
    )
    return record


@dataclass(frozen=True)
class EscortHealthView:
    """What the escort sheet shows: fit or not, and the needs — nothing else."""

    fit_to_travel: bool | None
    needs: str


def escort_health(detainee: Any) -> list[EscortHealthView]:
    """Ask the modules (``transfers_escort_health``) and keep only fit / needs."""
    pm = get_plugin_manager()
    caller = getattr(pm.hook, "transfers_escort_health", None)
    if caller is None:
        return []
    found: list[EscortHealthView] = []
    for answer in caller(detainee=detainee):
        if answer is None:
            continue
        if not isinstance(answer, EscortHealth):
            raise PluginError(
                "transfers_escort_health must return core.contributions.EscortHealth values, "
                f"got {type(answer).__name__}"
            )
        found.append(EscortHealthView(answer.fit_to_travel, answer.needs or ""))
    return found
