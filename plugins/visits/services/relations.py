"""Relations: a family member asks to be linked to a detainee; the visits office decides."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.detainees.models import Detainee
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import current_language
from core.identity.models import User
from core.identity.services import require
from core.scoping import ensure_in_scope
from core.validation import ascii_digits

from ..models import Relation, RelationStatus
from .common import _parse_date, _staff
from .labels import relationship_code
from .notify import _in_locale, _notify


def request_relation(
    visitor: User,
    registration_number: str,
    relationship: str,
    birth_date: Any = None,
) -> Relation:
    """A family member asks to be linked to a detainee.

    Both the registration number and the detainee's birth date are required. A wrong number,
    a wrong birth date and a released detainee all give the same error (``422 no_match``,
    same message, same fields) after the same queries, so the answer says nothing about
    whether a registration number exists (see docs/security.md).
    """
    require(visitor, "visits.book")
    errors: dict[str, str] = {}
    code = relationship_code(relationship)
    if code is None:
        errors["relationship"] = _("Choose one of the allowed values.")
    else:
        relationship = code
    parsed_birth = _parse_date(birth_date, "detainee_birth_date", errors)
    if parsed_birth is None and "detainee_birth_date" not in errors:
        errors["detainee_birth_date"] = _("This field is required.")
    rn = ascii_digits(registration_number or "").strip()
    if not rn:
        errors["detainee"] = _("This field is required.")
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    # the family side has no establishment scope: the record is found by its number, and
    # nothing about it is used unless number and birth date both match. The same two queries
    # run whatever the outcome (no early return between them).
    det = db_session().scalar(select(Detainee).where(Detainee.registration_number == rn))
    matched = det is not None and not det.is_released and det.birth_date == parsed_birth
    existing = db_session().scalar(
        select(Relation).where(
            Relation.visitor_id == visitor.id,
            Relation.detainee_id == (det.id if matched and det is not None else -1),
            Relation.status.in_((RelationStatus.pending, RelationStatus.approved)),
        )
    )
    if not matched or det is None:
        no_match = _("No detainee matches this registration number and birth date.")
        raise ValidationFailed(
            no_match,
            code="no_match",
            fields={"detainee": no_match, "detainee_birth_date": no_match},
        )
    if existing is not None:
        raise _relation_exists()
    rel = Relation(
        visitor_id=visitor.id,
        detainee_id=det.id,
        relationship_kind=relationship,
        status=RelationStatus.pending,
    )
    try:
        # a SAVEPOINT: of two simultaneous requests for the same link, the second loses on the
        # unique index with the same 409 as the check above
        with db_session().begin_nested():
            db_session().add(rel)
            db_session().flush()
    except IntegrityError as exc:
        message = str(exc.orig)
        if not any(
            mark in message
            for mark in ("uq_visits_relations_live_visitor_detainee", "visits_relations.visitor_id")
        ):
            raise
        raise _relation_exists() from exc
    audit.record(
        "visits.relation.request",
        "visits_relation",
        rel.id,
        establishment_id=det.establishment_id,
        summary={"detainee": det.registration_number, "relationship": relationship},
        actor=visitor,
    )
    return rel


def _relation_exists() -> Conflict:
    return Conflict(
        _("You have already asked to be linked to this detainee."),
        code="relation_exists",
        fields={"detainee": _("You have already asked to be linked to this detainee.")},
    )


def get_relation(actor: User, relation_id: int) -> Relation:
    rel = db_session().get(Relation, relation_id)
    if rel is None:
        raise NotFound(_("This request does not exist."), code="relation_not_found")
    if rel.visitor_id == actor.id:
        return rel
    require(actor, "visits.manage")
    ensure_in_scope(actor, rel.detainee.establishment_id)
    return rel


def decide_relation(actor: User, relation_id: int, approve: bool, reason: str = "") -> Relation:
    rel = db_session().get(Relation, relation_id)
    if rel is None:
        raise NotFound(_("This request does not exist."), code="relation_not_found")
    _staff(actor, "visits.manage", rel.detainee.establishment_id)
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationFailed(
            _("Please correct the highlighted fields."), fields={"reason": _("Give a reason.")}
        )
    if rel.status != RelationStatus.pending:
        raise Conflict(_("This request was already decided."), code="already_decided")
    rel.status = RelationStatus.approved if approve else RelationStatus.rejected
    rel.reason = reason[:300]
    rel.decided_by_id = actor.id
    rel.decided_at = utcnow()
    db_session().flush()
    audit.record(
        f"visits.relation.{'approve' if approve else 'reject'}",
        "visits_relation",
        rel.id,
        establishment_id=rel.detainee.establishment_id,
        summary={"status": [RelationStatus.pending, rel.status], "reason": reason},
        actor=actor,
    )
    with _in_locale(rel.visitor):
        if approve:
            _notify(
                rel.visitor,
                "visits.relation.approved",
                _(
                    "Your link to %(name)s is approved: you can book visits.",
                    name=rel.detainee.display_name(current_language()),
                ),
            )
        else:
            _notify(
                rel.visitor,
                "visits.relation.rejected",
                # nothing about the detainee is told before a link is approved: only the
                # registration number the family typed
                _(
                    "Your request to be linked to the detainee %(number)s was rejected.",
                    number=rel.detainee.registration_number,
                ),
                _("Reason: %(reason)s", reason=reason),
            )
    return rel


# a family's own links: the visitor is the caller, not joined again into every row (with the
# roles and establishments that a user row loads)
_VISITOR_IS_THE_CALLER = lazyload(Relation.visitor)


def visitor_relations(visitor: User) -> list[Relation]:
    return list(
        db_session().scalars(
            select(Relation)
            .where(Relation.visitor_id == visitor.id)
            .order_by(Relation.id.desc())
            .options(_VISITOR_IS_THE_CALLER)
        )
    )


def approved_relation(visitor_id: int, detainee_id: int) -> Relation | None:
    """The approved link between them, if any (its visitor and detainee are the caller's:
    loaded from the session if asked for)."""
    return db_session().scalar(
        select(Relation)
        .where(
            Relation.visitor_id == visitor_id,
            Relation.detainee_id == detainee_id,
            Relation.status == RelationStatus.approved,
        )
        .options(_VISITOR_IS_THE_CALLER, lazyload(Relation.detainee))
    )


def linked_detainees(visitor: User) -> list[Detainee]:
    return [r.detainee for r in visitor_relations(visitor) if r.status == RelationStatus.approved]
