"""Every rule of the visits module (Ziara). Pages, API, CLI and hooks all call these functions.

Services take the acting user, check permissions and establishment scope, validate, change rows
through :func:`core.db.session`, audit every change and never commit.

Capacity and weekly quotas are enforced by the database itself: a place is taken with
``UPDATE visits_slots SET booked = booked + :n WHERE id = :id AND booked + :n <= capacity``
and a quota unit with ``UPDATE visits_quota_counters SET used = used + 1 WHERE … AND used <
:quota``; a row count of zero means "full". Both are exact under concurrency on SQLite (every
transaction is ``BEGIN IMMEDIATE``) and PostgreSQL (the row lock of the UPDATE, then the
condition re-checked on the committed row).

Local times (opening hours, days, weeks) are in the zone of the app's configuration
(``BABEL_DEFAULT_TIMEZONE``, through :func:`core.i18n.local_zone`).

This package re-exports every name below, so callers write ``services.book(...)`` and never
need to know which file holds what. The files, by responsibility:

- ``labels.py``: what people read for stored codes (statuses, relationships, kinds, weekdays)
- ``common.py``: local time, input parsing, staff checks, establishment lookups
- ``notify.py``: notifications to families, in the recipient's language
- ``rules.py``: the rules and public information of an establishment
- ``capacity.py``: places in a slot and weekly quotas, guarded by the database
- ``transitions.py``: the booking state machine, ``TRANSITIONS`` and ``_transition``
- ``slots.py``: single slots and blocked dates (cancelling them cancels their bookings)
- ``weekly_sessions.py``: weekly session templates and the slots they generate
- ``relations.py``: a family member's link to a detainee, asked and decided
- ``bans.py``: visitors banned from an establishment
- ``references.py``: booking references and QR code text
- ``booking.py``: booking online, walk-ins at the gate, cancelling
- ``bookings_read.py``: one booking, a family's list, bookable slots, a detainee's visits
- ``gate.py``: check-in, outcomes, no-shows, the day sheet and its CSV
- ``lifecycle.py``: a detainee's transfer or release cancels their future visits; a visit
  in progress stops a move (``transfer_blockers``)
- ``reminders.py``: the reminder the day before a visit
- ``dashboard.py``: the figures of the dashboard widget
"""

from __future__ import annotations

from core.validation import NATIONAL_ID_RE

from .bans import (
    ban_in_force,
    ban_visitor,
    banned_national_ids,
    bans_of,
    find_visitor,
    lift_ban,
    refuse_banned_at_gate,
    refuse_banned_companions,
)
from .booking import CompanionIn, Party, _create_booking, book, cancel_booking, walk_in
from .bookings_read import (
    BookingsPage,
    DetaineeVisits,
    SlotChoice,
    bookable_slots,
    detainee_visits,
    get_booking,
    is_visits_staff,
    my_bookings,
)
from .capacity import PLACES_PER_BOOKING, quota_for, visitor_share_used
from .common import (
    age_on,
    establishment_by_code,
    local_date,
    local_moment,
    staff_establishments,
    week_start,
)
from .dashboard import Stats, dashboard_stats
from .gate import (
    CHECK_IN_EARLY,
    SheetRow,
    check_in,
    day_sheet,
    day_sheet_csv,
    mark_no_show,
    mark_slot_no_shows,
    record_outcome,
)
from .labels import (
    KIND_LABELS,
    RELATION_STATUS_LABELS,
    RELATIONSHIP_SYNONYMS,
    RELATIONSHIPS,
    STATUS_LABELS,
    WEEKDAYS,
    kind_label,
    kind_labels,
    reason_label,
    relationship_code,
    relationship_label,
    status_label,
)
from .lifecycle import cancel_future_for_detainee, transfer_blockers
from .office import (
    QueueFilters,
    QueuePage,
    QueueRow,
    count_pending,
    flag_threshold,
    link_request_queue,
    parse_filters,
    rejected_requests,
)
from .references import (
    QR_PREFIX,
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    draw_reference,
    normalise_reference,
    qr_text,
)
from .relations import (
    approved_relation,
    decide_relation,
    get_relation,
    linked_detainees,
    request_relation,
    visitor_relations,
)
from .reminders import send_reminders
from .rules import (
    DEFAULT_RULES,
    INFO_FIELDS,
    RULE_LIMITS,
    get_rules,
    public_establishments,
    public_info,
    update_rules,
)
from .slots import (
    block_date,
    blocked_dates_of,
    blocked_days,
    cancel_slot,
    create_slot,
    get_slot,
    list_slots,
)
from .transitions import (
    ACTIVE_STATUSES,
    OUTCOMES,
    REASON_REQUIRED,
    STATUSES,
    TRANSITIONS,
    _transition,
)
from .weekly_sessions import (
    TIME_RE,
    add_template,
    deactivate_template,
    generate_slots,
    templates_of,
)

__all__ = [
    "ACTIVE_STATUSES",
    "CHECK_IN_EARLY",
    "DEFAULT_RULES",
    "INFO_FIELDS",
    "KIND_LABELS",
    "NATIONAL_ID_RE",
    "OUTCOMES",
    "PLACES_PER_BOOKING",
    "QR_PREFIX",
    "REASON_REQUIRED",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "RELATIONSHIPS",
    "RELATIONSHIP_SYNONYMS",
    "RELATION_STATUS_LABELS",
    "RULE_LIMITS",
    "STATUSES",
    "STATUS_LABELS",
    "TIME_RE",
    "TRANSITIONS",
    "WEEKDAYS",
    "BookingsPage",
    "CompanionIn",
    "DetaineeVisits",
    "Party",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "SheetRow",
    "SlotChoice",
    "Stats",
    "_create_booking",
    "_transition",
    "add_template",
    "age_on",
    "approved_relation",
    "ban_in_force",
    "ban_visitor",
    "banned_national_ids",
    "bans_of",
    "block_date",
    "blocked_dates_of",
    "blocked_days",
    "book",
    "bookable_slots",
    "cancel_booking",
    "cancel_future_for_detainee",
    "cancel_slot",
    "check_in",
    "count_pending",
    "create_slot",
    "dashboard_stats",
    "day_sheet",
    "day_sheet_csv",
    "deactivate_template",
    "decide_relation",
    "detainee_visits",
    "draw_reference",
    "establishment_by_code",
    "find_visitor",
    "flag_threshold",
    "generate_slots",
    "get_booking",
    "get_relation",
    "get_rules",
    "get_slot",
    "is_visits_staff",
    "kind_label",
    "kind_labels",
    "lift_ban",
    "link_request_queue",
    "linked_detainees",
    "list_slots",
    "local_date",
    "local_moment",
    "mark_no_show",
    "mark_slot_no_shows",
    "my_bookings",
    "normalise_reference",
    "parse_filters",
    "public_establishments",
    "public_info",
    "qr_text",
    "quota_for",
    "reason_label",
    "record_outcome",
    "refuse_banned_at_gate",
    "refuse_banned_companions",
    "rejected_requests",
    "relationship_code",
    "relationship_label",
    "request_relation",
    "send_reminders",
    "staff_establishments",
    "status_label",
    "templates_of",
    "transfer_blockers",
    "update_rules",
    "visitor_relations",
    "visitor_share_used",
    "walk_in",
    "week_start",
]
