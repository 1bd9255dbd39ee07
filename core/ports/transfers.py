"""The ``transfers.requests`` port: ask the transfers module to request a move of a detainee
(a hospital referral from the health module, a court summons…) without importing it.

Declared in the core so that callers import it without importing transfers; the transfers
plugin provides it. Check :func:`core.ports.has_port` first and hide the feature when
transfers is not installed::

    from core.ports import has_port, port
    from core.ports.transfers import TRANSFER_REQUESTS, TransferRequests

    if has_port(TRANSFER_REQUESTS):
        ref = port(TRANSFER_REQUESTS, TransferRequests).request_move(
            actor, "2025-000123", destination="HOSP-RABAT", kind="hospital",
            reason="medical", note="referral 42")

The request runs in the caller's transaction and follows the transfers module's rules: the
same state machine, approvals and vetoes as a request made by a transfers officer (the actor
needs no transfers permission: the request is made on the module's authority and audited as
asked by ``actor``). Refusals are the usual :class:`core.errors.DomainError` values
(``Blocked`` while a module vetoes, ``Conflict`` when a transfer is already active).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from core.principals import Principal

TRANSFER_REQUESTS = "transfers.requests"


@dataclass(frozen=True)
class TransferRef:
    """What a request hands back: the transfer's id and its status code."""

    id: int
    status: str


@runtime_checkable
class TransferRequests(Protocol):
    """Requesting a move, as other modules may."""

    def request_move(
        self,
        actor: Principal,
        registration_number: str,
        *,
        destination: str,
        kind: str,
        reason: str,
        note: str = "",
    ) -> TransferRef:
        """Request a move of the detainee to the establishment with code ``destination``;
        ``kind`` is one of :data:`core.vetoes.MOVE_KINDS`, ``reason`` a transfer reason code
        (``medical``, ``court``…). Returns the new transfer (status ``requested``)."""
        ...

    def active_transfer(self, registration_number: str) -> TransferRef | None:
        """The detainee's transfer under way (not completed, cancelled or refused), if any."""
        ...


__all__ = ["TRANSFER_REQUESTS", "TransferRef", "TransferRequests"]
