"""The transfer state machine: every transition, who may make it and from which side, in ONE
place. Pure data and functions (no database): the services, pages, API and tests read it.

    requested ─approve─▶ approved ─accept─▶ accepted ─schedule─▶ scheduled ─depart─▶ in_transit
                            └─refuse─▶ refused               in_transit ─complete─▶ completed
    any status before completed ─cancel (with a reason)─▶ cancelled

``side`` says where the actor must work: ``origin``, ``destination`` or ``either`` (the
origin or the destination). ``vetoes`` marks the transitions before which the modules'
``transfer_blockers`` are asked again (request, approve, depart; complete asks through
``core.detainees.services.move``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import Conflict

REQUESTED = "requested"
APPROVED = "approved"
ACCEPTED = "accepted"
SCHEDULED = "scheduled"
IN_TRANSIT = "in_transit"
COMPLETED = "completed"
REFUSED = "refused"
CANCELLED = "cancelled"

STATUSES = (REQUESTED, APPROVED, ACCEPTED, SCHEDULED, IN_TRANSIT, COMPLETED, REFUSED, CANCELLED)
ACTIVE = (REQUESTED, APPROVED, ACCEPTED, SCHEDULED, IN_TRANSIT)
FINAL = (COMPLETED, REFUSED, CANCELLED)


@dataclass(frozen=True)
class Transition:
    action: str
    sources: tuple[str, ...]
    target: str
    permission: str
    side: str  # origin | destination | either
    vetoes: bool = False


#: Creating a transfer (no source status): the transfers officer of the origin.
REQUEST = Transition("request", (), REQUESTED, "transfers.request", "origin", vetoes=True)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition("approve", (REQUESTED,), APPROVED, "transfers.approve", "origin", True),
        Transition("accept", (APPROVED,), ACCEPTED, "transfers.accept", "destination"),
        Transition("refuse", (APPROVED,), REFUSED, "transfers.accept", "destination"),
        Transition("schedule", (ACCEPTED,), SCHEDULED, "transfers.schedule", "origin"),
        Transition("depart", (SCHEDULED,), IN_TRANSIT, "transfers.execute", "origin", True),
        Transition("complete", (IN_TRANSIT,), COMPLETED, "transfers.execute", "either", True),
        Transition("cancel", ACTIVE, CANCELLED, "transfers.cancel", "either"),
    )
}
ACTIONS = tuple(TRANSITIONS)


def transition(action: str, status: str) -> Transition:
    """The transition ``action`` from ``status``; a 409 ``invalid_transition`` (with the
    status's words) when the machine does not allow it."""
    from flask_babel import gettext as _

    from plugins.transfers.services.labels import status_label

    t = TRANSITIONS.get(action)
    if t is None or status not in t.sources:
        raise Conflict(
            _(
                "This transfer is %(status)s: this step is not possible now.",
                status=status_label(status),
            ),
            code="invalid_transition",
        )
    return t


def target(action: str, status: str) -> str | None:
    """The status ``action`` leads to from ``status``, or ``None`` (pure; for tests)."""
    t = TRANSITIONS.get(action)
    return t.target if t is not None and status in t.sources else None


def next_actions(status: str) -> list[str]:
    """The actions the machine allows from ``status`` (who may make them is checked apart)."""
    return [a for a, t in TRANSITIONS.items() if status in t.sources]


def reachable(status: str) -> set[str]:
    """Every status reachable from ``status`` (itself included)."""
    seen = {status}
    stack = [status]
    while stack:
        s = stack.pop()
        for t in TRANSITIONS.values():
            if s in t.sources and t.target not in seen:
                seen.add(t.target)
                stack.append(t.target)
    return seen
