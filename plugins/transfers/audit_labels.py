"""How the audit page names the transfers module's events (``audit_labels`` and
``audit_object_names``)."""

from __future__ import annotations

from sqlalchemy import select

from core.contributions import AuditLabels
from core.db import session
from core.i18n import current_language
from core.i18n import lazy_gettext as _l

from .services.labels import KIND, REASON, REFUSAL, STATUS

TRANSFERS_AUDIT_LABELS = AuditLabels(
    actions={
        "transfers.": _l("Transfer step"),
        "transfers.request": _l("Transfer requested"),
        "transfers.approve": _l("Transfer approved"),
        "transfers.accept": _l("Transfer accepted by the destination"),
        "transfers.refuse": _l("Transfer refused by the destination"),
        "transfers.schedule": _l("Transfer scheduled"),
        "transfers.depart": _l("Detainee left for the transfer"),
        "transfers.complete": _l("Transfer completed"),
        "transfers.cancel": _l("Transfer cancelled"),
        "transfers.override": _l("Transfer blockers overridden"),
        "transfers.escort.update": _l("Escort record changed"),
        "transfers.hearing.record": _l("Hearing by video link recorded"),
        "transfers.bulk": _l("Bulk transfer requested"),
    },
    object_types={
        "transfers_transfer": _l("Transfer"),
        "transfers_hearing": _l("Hearing by video link"),
        "transfers_bulk": _l("Bulk transfer"),
    },
    fields={
        "detainee": _l("Detainee"),
        "status": _l("Status"),
        "kind": _l("Kind of move"),
        "reason": _l("Reason"),
        "destination": _l("Destination"),
        "judicial_authorisation": _l("Judicial authorisation"),
        "refusal_reason": _l("Refusal reason"),
        "date": _l("Date"),
        "vehicle": _l("Vehicle"),
        "overridden": _l("Blockers overridden"),
        "court": _l("Court"),
        "escort_hours": _l("Escort hours saved"),
        "bags": _l("Bags"),
        "seal_numbers": _l("Seal numbers"),
        "requested": _l("Transfers requested"),
        "detainees": _l("Detainees"),
        "blocked": _l("Blocked"),
        "refused": _l("Refused"),
        "risk_escape": _l("Escape risk"),
        "risk_violence": _l("Violence risk"),
        "risk_self_harm": _l("Self-harm risk"),
        "hold_separately": _l("Hold separately"),
    },
    values={
        "status": dict(STATUS),
        "kind": dict(KIND),
        "reason": dict(REASON),
        "refusal_reason": dict(REFUSAL),
    },
)


def transfer_names(object_ids: list[str]) -> dict[str, str]:
    """``{id: "№ id · detainee's name"}`` in the reader's language, in one query."""
    from core.detainees.models import Detainee

    from .models import Transfer

    ids = [int(i) for i in object_ids if str(i).isdigit() and len(str(i)) < 10]
    if not ids:
        return {}
    lang = current_language()
    rows = session().execute(
        select(Transfer.id, Detainee)
        .join(Detainee, Detainee.id == Transfer.detainee_id)
        .where(Transfer.id.in_(ids))
    )
    return {str(tid): f"{tid} · {det.display_name(lang)}" for tid, det in rows}
