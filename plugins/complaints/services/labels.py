"""The localised names of the codes complaints store (status, outcome, channel, …)."""

from __future__ import annotations

from typing import Any

from flask_babel import pgettext

from core.i18n import lazy_gettext as _l

from ..models import AppealLevel, Channel, EntryKind, Outcome, Status

STATUS_LABELS: dict[Status, Any] = {
    Status.received: _l("Received"),
    Status.acknowledged: _l("Acknowledged"),
    Status.in_review: _l("In review"),
    Status.answered: _l("Answered"),
    Status.appealed: _l("Appealed"),
    Status.appeal_review: _l("Appeal in review"),
    Status.closed: _l("Closed"),
    Status.inadmissible: _l("Inadmissible"),
    Status.withdrawn: _l("Withdrawn"),
}
OUTCOME_LABELS: dict[Outcome, Any] = {
    Outcome.founded: _l("Founded"),
    Outcome.partly_founded: _l("Partly founded"),
    Outcome.unfounded: _l("Unfounded"),
}
CHANNEL_LABELS: dict[Channel, Any] = {
    Channel.online: _l("Online"),
    Channel.written: _l("Written (letter)"),
    Channel.oral: _l("Oral"),
    Channel.phone: _l("Telephone"),
    Channel.complaint_box: _l("Complaint box"),
}
APPEAL_LEVEL_LABELS: dict[AppealLevel, Any] = {
    AppealLevel.regional: _l("Regional level"),
    AppealLevel.central: _l("Central administration"),
}
ENTRY_LABELS: dict[EntryKind, Any] = {
    EntryKind.answer: _l("Answer"),
    EntryKind.note: _l("Internal note"),
    EntryKind.status: _l("Status changed"),
    EntryKind.reroute: _l("Re-routed"),
    EntryKind.assign: _l("Assigned"),
    EntryKind.appeal: _l("Appeal"),
    EntryKind.reminder: _l("Reminder sent"),
    EntryKind.escalation: _l("Escalated"),
    EntryKind.central_escalation: _l("Escalated to the central level"),
    EntryKind.referral: _l("Referred to the central level"),
}
INADMISSIBLE_REASONS: dict[str, Any] = {
    "outside_remit": _l("Outside the administration's remit"),
    "before_court": _l("The matter is before a court"),
    "duplicate": _l("Same complaint already filed"),
    "insulting": _l("Insulting or abusive content"),
    "no_subject": _l("No identifiable subject"),
}


def _get(table: dict[Any, Any], enum_cls: Any, code: Any) -> str:
    try:
        return str(table[enum_cls(code)])
    except (ValueError, KeyError):
        return str(code or "")


def status_label(code: Any) -> str:
    return _get(STATUS_LABELS, Status, code)


def outcome_label(code: Any) -> str:
    return _get(OUTCOME_LABELS, Outcome, code)


def channel_label(code: Any) -> str:
    return _get(CHANNEL_LABELS, Channel, code)


def appeal_level_label(code: Any) -> str:
    return _get(APPEAL_LEVEL_LABELS, AppealLevel, code)


def entry_label(code: Any) -> str:
    return _get(ENTRY_LABELS, EntryKind, code)


def reason_label(code: str) -> str:
    return str(INADMISSIBLE_REASONS.get(code, code))


def office_label(role: str) -> str:
    from core.identity.roles import role_registry

    try:
        return str(role_registry().label(role))
    except Exception:
        return role


def confidential_word() -> str:
    return pgettext("complaint", "Confidential")
