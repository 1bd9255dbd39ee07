"""Every rule of the complaints module. Services never commit; pages and the API commit once.

The files of this package, by responsibility (this module re-exports their public names):

- ``workflow`` — THE state machine (``TRANSITIONS``) and :func:`change_status`, its one door.
- ``calendar`` — working days on the national holiday calendar (proposed from
  ``holidays.Morocco``, kept by the central administration).
- ``categories`` — categories from the ``complaints_categories`` hook, and the general ones.
- ``access`` — who sees and who handles a complaint (authors, offices, director, appeals).
- ``attachments`` — files added after filing (API) and opening one, audited.
- ``filing`` — filing online or on a detainee's behalf; attachments; the daily limit.
- ``handling`` — acknowledge, review, answer, close, inadmissible, withdraw, appeal, notes,
  re-routing, assignment, staff named.
- ``reading`` — one complaint (audited), the queue, a family's list, the dashboard.
- ``deadlines`` — reminders, escalation, closing settled complaints (periodic tasks).
- ``figures`` — counts, median answer time, share on time, the 12-month trend.
- ``labels`` — stored codes in the reader's language; ``notify`` — messages via the outbox.
"""

from __future__ import annotations

from .access import (
    appeal_level_for,
    can_handle,
    can_read,
    is_author,
    is_named,
    is_regional_reviewer,
    regional_reviewers,
    sees_complaints,
)
from .attachments import add_attachments, attachments_of, open_attachment
from .calendar import (
    add_holiday,
    add_working_days,
    holidays_between,
    is_working_day,
    local_today,
    move_holiday,
    package_holidays,
    propose_year,
    proposed_years,
    remove_holiday,
    working_days_between,
    year_holidays,
)
from .categories import GENERAL_CATEGORIES, all_categories, category_label, office_of
from .deadlines import close_settled, escalate_overdue, escalate_to_central, send_reminders
from .figures import Figures, figures
from .filing import Upload, author_detainees, file_complaint, find_staff, may_file_for_others, sniff
from .handling import (
    acknowledge,
    add_note,
    answer,
    appeal,
    appeal_deadline,
    assign,
    assignable_staff,
    can_appeal,
    close,
    declare_inadmissible,
    name_staff,
    refer_up,
    reroute,
    start_review,
    take_appeal,
    withdraw,
)
from .labels import (
    INADMISSIBLE_REASONS,
    appeal_level_label,
    channel_label,
    entry_label,
    office_label,
    outcome_label,
    reason_label,
    status_label,
)
from .reading import (
    Dashboard,
    QueueFilters,
    answers,
    dashboard,
    detainee_complaints,
    find,
    get_complaint,
    is_overdue,
    my_complaints,
    queue,
    visible_entries,
)
from .settings import setting
from .workflow import (
    APPEAL_STATUSES,
    DECIDED_STATUSES,
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    allowed,
    change_status,
)

__all__ = [
    "APPEAL_STATUSES",
    "DECIDED_STATUSES",
    "FINAL_STATUSES",
    "GENERAL_CATEGORIES",
    "INADMISSIBLE_REASONS",
    "OPEN_STATUSES",
    "STATUSES",
    "TRANSITIONS",
    "Dashboard",
    "Figures",
    "QueueFilters",
    "Upload",
    "acknowledge",
    "add_attachments",
    "add_holiday",
    "add_note",
    "add_working_days",
    "all_categories",
    "allowed",
    "answer",
    "answers",
    "appeal",
    "appeal_deadline",
    "appeal_level_for",
    "appeal_level_label",
    "assign",
    "assignable_staff",
    "attachments_of",
    "author_detainees",
    "can_appeal",
    "can_handle",
    "can_read",
    "category_label",
    "change_status",
    "channel_label",
    "close",
    "close_settled",
    "dashboard",
    "declare_inadmissible",
    "detainee_complaints",
    "entry_label",
    "escalate_overdue",
    "escalate_to_central",
    "figures",
    "file_complaint",
    "find",
    "find_staff",
    "get_complaint",
    "holidays_between",
    "is_author",
    "is_named",
    "is_overdue",
    "is_regional_reviewer",
    "is_working_day",
    "local_today",
    "may_file_for_others",
    "move_holiday",
    "my_complaints",
    "name_staff",
    "office_label",
    "office_of",
    "open_attachment",
    "outcome_label",
    "package_holidays",
    "propose_year",
    "proposed_years",
    "queue",
    "reason_label",
    "refer_up",
    "regional_reviewers",
    "remove_holiday",
    "reroute",
    "sees_complaints",
    "send_reminders",
    "setting",
    "sniff",
    "start_review",
    "status_label",
    "take_appeal",
    "visible_entries",
    "withdraw",
    "working_days_between",
    "year_holidays",
]
