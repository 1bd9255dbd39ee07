"""Words for the codes the module stores (statuses, kinds, reasons, refusal reasons, actions,
risk flags): stored text is a code, translated when shown."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_pgettext as pgettext

from core.i18n import lazy_gettext as _l

STATUS = {
    "requested": pgettext("transfer status", "Requested"),
    "approved": pgettext("transfer status", "Approved"),
    "accepted": pgettext("transfer status", "Accepted"),
    "scheduled": pgettext("transfer status", "Scheduled"),
    "in_transit": pgettext("transfer status", "In transit"),
    "completed": pgettext("transfer status", "Completed"),
    "refused": pgettext("transfer status", "Refused"),
    "cancelled": pgettext("transfer status", "Cancelled"),
}

KIND = {
    "transfer": _l("Transfer between establishments"),
    "court": _l("Court appearance"),
    "hospital": _l("Hospital"),
    "handover": _l("Hand-over to another authority"),
}

REASON = {
    "security": pgettext("transfer reason", "Security"),
    "overcrowding": _l("Overcrowding"),
    "closer_to_family": _l("Closer to the family"),
    "medical": _l("Medical"),
    "court": pgettext("transfer reason", "Court"),
    "programme": _l("Programme or training"),
    "disciplinary": _l("Disciplinary"),
    "detainee_request": _l("At the detainee's request"),
    "other": pgettext("transfer reason", "Other"),
}

REFUSAL = {
    "no_space": _l("No space"),
    "more_information": _l("More information needed"),
    "security": pgettext("refusal reason", "Security"),
}

ACTION = {
    "request": pgettext("transfer action", "Request"),
    "approve": pgettext("transfer action", "Approve"),
    "accept": pgettext("transfer action", "Accept"),
    "refuse": pgettext("transfer action", "Refuse"),
    "schedule": pgettext("transfer action", "Schedule"),
    "depart": pgettext("transfer action", "Depart"),
    "complete": pgettext("transfer action", "Complete"),
    "cancel": pgettext("transfer action", "Cancel the transfer"),
    "override": _l("Override the blockers"),
    "video": _l("Held by video link"),
}

RISK = {
    "risk_escape": _l("Escape risk"),
    "risk_violence": _l("Violence risk"),
    "risk_self_harm": _l("Self-harm risk"),
    "hold_separately": _l("Hold separately"),
}


def _label(table: dict[str, Any], code: Any) -> str:
    value = getattr(code, "value", code)
    return str(table.get(value, value or ""))


def status_label(code: Any) -> str:
    return _label(STATUS, code)


def kind_label(code: Any) -> str:
    return _label(KIND, code)


def reason_label(code: Any, text: str = "") -> str:
    value = getattr(code, "value", code)
    if value == "other" and text:
        return f"{_label(REASON, code)}: {text}"
    return _label(REASON, code)


def refusal_label(code: Any) -> str:
    return _label(REFUSAL, code)


def action_label(code: Any) -> str:
    return _label(ACTION, code)
