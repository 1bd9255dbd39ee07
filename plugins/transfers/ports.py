"""The ``transfers.requests`` port (``core/ports/transfers.py``): other modules (health's
hospital referrals) request a move through the same rules as a transfers officer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.contributions import ServicePort
from core.db import session as db_session
from core.detainees.models import Detainee
from core.errors import NotFound
from core.ports.transfers import TRANSFER_REQUESTS, TransferRef, TransferRequests
from core.scoping import unscoped
from core.validation import ascii_digits


def _detainee(registration_number: str) -> Detainee:
    from flask_babel import gettext as _

    rn = ascii_digits(registration_number or "").strip()
    with unscoped("transfers: a module asks for a move of a detainee"):
        det = db_session().scalar(select(Detainee).where(Detainee.registration_number == rn))
    if det is None:
        raise NotFound(_("No detainee with this registration number."), code="detainee_not_found")
    return det


class TransferRequestsPort:
    """Requesting a move on the transfers module's authority (audited as asked by ``actor``)."""

    def request_move(
        self,
        actor: Any,
        registration_number: str,
        *,
        destination: str,
        kind: str,
        reason: str,
        note: str = "",
    ) -> TransferRef:
        from plugins.transfers import services

        det = _detainee(registration_number)
        transfer = services.request_transfer(
            det,
            {
                "destination": destination,
                "kind": kind,
                "reason": reason,
                "note": note,
                "place": note[:200] if kind in ("court", "hospital") else "",
            },
            actor,
            on_authority_of_module=True,
        )
        return TransferRef(transfer.id, transfer.status.value)

    def active_transfer(self, registration_number: str) -> TransferRef | None:
        from plugins.transfers import services

        det = _detainee(registration_number)
        with unscoped("transfers: a module asks whether a detainee has a transfer under way"):
            found = services.active_transfer_of(det)
        return None if found is None else TransferRef(found.id, found.status.value)


def service_ports() -> list[ServicePort]:
    return [ServicePort(TRANSFER_REQUESTS, TransferRequests, TransferRequestsPort())]
