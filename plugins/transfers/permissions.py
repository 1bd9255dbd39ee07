"""The transfers permissions and their default role grants (who may make each transition is
``services.machine.TRANSITIONS``: a permission and a side, origin or destination)."""

from __future__ import annotations

from core.contributions import Permission
from core.i18n import lazy_gettext as _l

VIEW = "transfers.view"
REQUEST = "transfers.request"
APPROVE = "transfers.approve"
ACCEPT = "transfers.accept"
SCHEDULE = "transfers.schedule"
EXECUTE = "transfers.execute"
CANCEL = "transfers.cancel"
OVERRIDE = "transfers.override"
ESCORT = "transfers.escort"
HEARINGS = "transfers.hearings"

PERMISSIONS: list[Permission] = [
    Permission(
        VIEW,
        _l("See transfers of one's establishments"),
        ("transfers_officer", "director", "central_admin", "auditor"),
    ),
    Permission(REQUEST, _l("Request transfers"), ("transfers_officer",)),
    Permission(APPROVE, _l("Approve transfers leaving one's establishment"), ("director",)),
    Permission(
        ACCEPT,
        _l("Accept or refuse transfers arriving at one's establishment"),
        ("director", "transfers_officer"),
    ),
    Permission(SCHEDULE, _l("Schedule transfers"), ("transfers_officer",)),
    Permission(EXECUTE, _l("Record departures and arrivals"), ("transfers_officer",)),
    Permission(CANCEL, _l("Cancel transfers"), ("transfers_officer", "director")),
    Permission(OVERRIDE, _l("Go ahead with a transfer over blockers that allow it"), ("director",)),
    Permission(ESCORT, _l("Fill the escort record of a transfer"), ("transfers_officer",)),
    Permission(
        HEARINGS, _l("Record hearings held by video link"), ("transfers_officer", "director")
    ),
]
