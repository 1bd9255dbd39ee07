"""What a detainee's release or a move made elsewhere does to their transfers: a release is
blocked while the detainee is on the road; otherwise a transfer still under way is cancelled
with the reason (its timeline and the audit trail say so)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select, update

from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.i18n import lazy_gettext as _l
from core.principals import Principal
from core.scoping import unscoped
from core.vetoes import Blocker
from plugins.transfers.models import ACTIVE_STATUSES, Transfer
from plugins.transfers.services import workflow


def _active(det: Detainee) -> Transfer | None:
    with unscoped("transfers: the transfer under way of a detainee released or moved"):
        return db_session().scalar(
            select(Transfer).where(
                Transfer.detainee_id == det.id, Transfer.status.in_(ACTIVE_STATUSES)
            )
        )


def release_blockers(det: Detainee) -> list[Blocker]:
    """A detainee on the road (in transit) cannot be released until the transfer ends."""
    found = db_session().scalar(
        select(Transfer.id).where(Transfer.detainee_id == det.id, Transfer.status == "in_transit")
    )
    if found is None:
        return []
    message = _l("Transfers: the detainee is on the way to another establishment.")
    return [Blocker("in_transit", "transfers", message, overridable=False)]


def close_on(det: Detainee, actor: Principal, why: str) -> None:
    """Cancel the detainee's transfer under way (release, or a move made by other means)."""
    transfer = _active(det)
    if transfer is None:
        return
    before = transfer.status.value
    db_session().execute(
        update(Transfer)
        .where(Transfer.id == transfer.id, Transfer.status.in_(ACTIVE_STATUSES))
        .values(status="cancelled", closing_note=why[:300], updated_at=utcnow()),
        execution_options={"synchronize_session": False},
    )
    db_session().expire(transfer)
    workflow._event(transfer, "cancel", before, "cancelled", actor, why)
    workflow._audit("cancel", transfer, actor, {"status": [before, "cancelled"], "reason": why})


def on_released(det: Detainee, actor: Principal) -> None:
    close_on(det, actor, _("The detainee was released."))


def on_transferred(det: Detainee, actor: Principal) -> None:
    """A transfer being completed is already ``completed`` when the move fires: only another
    transfer left under way (a move made by other means) is cancelled."""
    close_on(det, actor, _("The detainee was moved by other means."))


__all__ = ["close_on", "on_released", "on_transferred", "release_blockers"]
