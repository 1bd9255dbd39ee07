"""The transfers rules: every write goes through here (pages, API, the port, demo data).

- ``machine`` — the state machine, in one place (transitions, permission and side of each).
- ``workflow`` — request, approve, accept, refuse, schedule, depart, complete, cancel, override.
- ``escort`` — the escort record and the health section (``transfers_escort_health``).
- ``hearings`` — hearings by video link (moves avoided, escort hours saved).
- ``bulk`` — bulk transfers.
- ``queries`` — lists, a detainee's transfers, dashboard figures, occupancy.
- ``labels`` — words for the stored codes.
"""

from __future__ import annotations

from plugins.transfers.services import machine
from plugins.transfers.services.bulk import (
    SYNC_LIMIT,
    ApprovalResult,
    BulkResult,
    bulk_approve,
    bulk_request,
    create_batch,
    parse_numbers,
    process_batch,
    run_queued_batches,
)
from plugins.transfers.services.common import (
    can_view,
    establishment_by_code,
    get_transfer,
    on_side,
    today_local,
    visible,
)
from plugins.transfers.services.escort import (
    FLAGS,
    EscortHealthView,
    escort_health,
    escort_record,
    update_escort,
)
from plugins.transfers.services.hearings import (
    DEFAULT_ESCORT_HOURS,
    MonthFigures,
    hold_by_video,
    monthly_figures,
    recent_hearings,
    record_hearing,
)
from plugins.transfers.services.labels import (
    action_label,
    kind_label,
    reason_label,
    refusal_label,
    status_label,
)
from plugins.transfers.services.queries import (
    DashboardFigures,
    Filters,
    dashboard_by_establishment,
    dashboard_figures,
    destination_occupancy,
    detainee_transfers,
    list_transfers,
)
from plugins.transfers.services.workflow import (
    accept,
    active_transfer_of,
    allowed_actions,
    approve,
    blockers,
    cancel,
    complete,
    depart,
    may,
    override,
    refuse,
    request_transfer,
    schedule,
    standing,
    validate_request,
    waived,
)

__all__ = [
    "DEFAULT_ESCORT_HOURS",
    "FLAGS",
    "SYNC_LIMIT",
    "ApprovalResult",
    "BulkResult",
    "DashboardFigures",
    "EscortHealthView",
    "Filters",
    "MonthFigures",
    "accept",
    "action_label",
    "active_transfer_of",
    "allowed_actions",
    "approve",
    "blockers",
    "bulk_approve",
    "bulk_request",
    "can_view",
    "cancel",
    "complete",
    "create_batch",
    "dashboard_by_establishment",
    "dashboard_figures",
    "depart",
    "destination_occupancy",
    "detainee_transfers",
    "escort_health",
    "escort_record",
    "establishment_by_code",
    "get_transfer",
    "hold_by_video",
    "kind_label",
    "list_transfers",
    "machine",
    "may",
    "monthly_figures",
    "on_side",
    "override",
    "parse_numbers",
    "process_batch",
    "reason_label",
    "recent_hearings",
    "record_hearing",
    "refusal_label",
    "refuse",
    "request_transfer",
    "run_queued_batches",
    "schedule",
    "standing",
    "status_label",
    "today_local",
    "update_escort",
    "validate_request",
    "visible",
    "waived",
]
