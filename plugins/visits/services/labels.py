"""What people read for the codes the module stores: statuses, relationships, kinds, weekdays."""

from __future__ import annotations

from typing import Any

from core.i18n import lazy_gettext as _l

STATUS_LABELS = {
    "confirmed": _l("Confirmed"),
    "checked_in": _l("Checked in"),
    "cancelled": _l("Cancelled"),
    "no_show": _l("No-show"),
    "completed": _l("Completed"),
    "visitor_refused": _l("Visitor refused entry"),
    "detainee_refused": _l("Detainee refused the visit"),
    "ended_early": _l("Ended early by staff"),
}
RELATION_STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}
RELATIONSHIPS = {
    "spouse": _l("Spouse"),
    "parent": _l("Parent"),
    "child": _l("Son or daughter"),
    "sibling": _l("Brother or sister"),
    "grandparent": _l("Grandparent"),
    "grandchild": _l("Grandchild"),
    "other_relative": _l("Other relative"),
}
# words families and their apps use for a relationship, mapped to the codes above
RELATIONSHIP_SYNONYMS = {
    "mother": "parent",
    "father": "parent",
    "mere": "parent",
    "mère": "parent",
    "pere": "parent",
    "père": "parent",
    "wife": "spouse",
    "husband": "spouse",
    "epouse": "spouse",
    "épouse": "spouse",
    "epoux": "spouse",
    "époux": "spouse",
    "son": "child",
    "daughter": "child",
    "fils": "child",
    "fille": "child",
    "brother": "sibling",
    "sister": "sibling",
    "frere": "sibling",
    "frère": "sibling",
    "soeur": "sibling",
    "sœur": "sibling",
    "grandmother": "grandparent",
    "grandfather": "grandparent",
    "grandson": "grandchild",
    "granddaughter": "grandchild",
    "uncle": "other_relative",
    "aunt": "other_relative",
    "nephew": "other_relative",
    "niece": "other_relative",
}


def relationship_code(value: Any) -> str | None:
    """The relationship code for a code or a common word ("mother" → "parent"), else None."""
    if not isinstance(value, str):
        return None
    word = value.strip().lower().replace("-", "_").replace(" ", "_")
    if word in RELATIONSHIPS:
        return word
    return RELATIONSHIP_SYNONYMS.get(word)


KIND_LABELS = {"ordinary": _l("Ordinary visit"), "supervised": _l("Supervised (closed) visit")}
WEEKDAYS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)


# The reasons the platform itself gives a booking (a person's own words are stored as typed):
# stored as these codes, translated when shown, in the reader's language.
CANCELLED_BY_VISITOR = "cancelled_by_visitor"
CANCELLED_BY_ESTABLISHMENT = "cancelled_by_establishment"
REASON_LABELS = {
    CANCELLED_BY_VISITOR: _l("Cancelled by the visitor"),
    CANCELLED_BY_ESTABLISHMENT: _l("Cancelled by the establishment"),
}


def reason_label(reason: str | None) -> str:
    """A booking's reason as shown: a reason code translated, a person's words as they are."""
    text = reason or ""
    return str(REASON_LABELS.get(text, text))


def status_label(code: str) -> str:
    return str(STATUS_LABELS.get(code, code))


def relationship_label(code: str) -> str:
    return str(RELATIONSHIPS.get(code, code))


def kind_label(code: str) -> str:
    return str(KIND_LABELS.get(code, code))


def kind_labels() -> dict[str, str]:
    """Every kind of visit, translated once: for a page that names the kind of each of many
    slots (one translation lookup a kind, not one a slot)."""
    return {code: str(label) for code, label in KIND_LABELS.items()}
