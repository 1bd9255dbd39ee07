"""The file's lists: allergies, problems (active / resolved) and vaccinations. Every change
keeps its history (who, when, where, old and new value)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, Forbidden, NotFound
from core.paging import fetch_page
from plugins.health.models import (
    Allergy,
    AllergyKind,
    Change,
    Level,
    Problem,
    ProblemStatus,
    Vaccination,
)
from plugins.health.services.access import FileAccess
from plugins.health.services.common import (
    MAX_SHORT,
    check_date,
    choice,
    clean_text,
    invalid,
    record,
    track,
)


def _writable(acc: FileAccess) -> None:
    if not acc.can_write:
        raise Forbidden(_("You are not allowed to do this."))


def _part(acc: FileAccess) -> dict[str, Any]:
    return {
        "file_id": acc.file.id,
        "establishment_id": acc.file.establishment_id,
        "created_by_id": getattr(acc.user, "id", None),
        "created_at": utcnow(),
    }


def _one(model: type, acc: FileAccess, row_id: int) -> Any:
    row = db_session().get(model, row_id)
    if row is None or row.file_id != acc.file.id:
        raise NotFound(_("Not found."))
    return row


# --- allergies ----------------------------------------------------------------------------------


def add_allergy(
    acc: FileAccess, kind: Any, substance: Any, reaction: Any, severity: Any
) -> Allergy:
    _writable(acc)
    row = Allergy(
        **_part(acc),
        kind=choice(kind, AllergyKind, "kind"),
        substance=clean_text(substance, "substance", required=True, max_len=MAX_SHORT, line=True),
        reaction=clean_text(reaction, "reaction", max_len=1000),
        severity=choice(severity or "medium", Level, "severity"),
    )
    db_session().add(row)
    db_session().flush()
    track(
        acc,
        "allergy",
        row.id,
        {"substance": (None, row.substance), "reaction": (None, row.reaction)},
    )
    record(acc, "health.allergy.add", allergy=row.id, kind=row.kind.value)
    return row


def remove_allergy(acc: FileAccess, allergy_id: int) -> Allergy:
    """An allergy recorded by mistake is marked inactive (kept, with its history)."""
    _writable(acc)
    row = _one(Allergy, acc, allergy_id)
    if not row.active:
        raise Conflict(_("This allergy is already removed."), code="invalid_state")
    track(acc, "allergy", row.id, {"active": (True, False)})
    row.active = False
    db_session().flush()
    record(acc, "health.allergy.remove", allergy=row.id)
    return row


def allergies(acc: FileAccess, *, active_only: bool = True) -> list[Allergy]:
    stmt = select(Allergy).where(Allergy.file_id == acc.file.id)
    if active_only:
        stmt = stmt.where(Allergy.active.is_(True))
    return list(db_session().scalars(stmt.order_by(Allergy.created_at)))


# --- problems -----------------------------------------------------------------------------------


def add_problem(acc: FileAccess, description: Any, onset_on: dt.date | None = None) -> Problem:
    _writable(acc)
    row = Problem(
        **_part(acc),
        description=clean_text(description, "description", required=True, max_len=1000),
        onset_on=check_date(onset_on, "onset_on"),
    )
    db_session().add(row)
    db_session().flush()
    track(acc, "problem", row.id, {"description": (None, row.description)})
    record(acc, "health.problem.add", problem=row.id)
    return row


def resolve_problem(
    acc: FileAccess, problem_id: int, resolved_on: dt.date | None = None
) -> Problem:
    _writable(acc)
    row = _one(Problem, acc, problem_id)
    if row.status == ProblemStatus.resolved:
        raise Conflict(_("This problem is already resolved."), code="invalid_state")
    day = check_date(resolved_on, "resolved_on") or utcnow().date()
    if row.onset_on and day < row.onset_on:
        raise invalid(resolved_on=_("The problem cannot be resolved before it began."))
    track(
        acc,
        "problem",
        row.id,
        {"status": (row.status.value, "resolved"), "resolved_on": (None, day)},
    )
    row.status = ProblemStatus.resolved
    row.resolved_on = day
    db_session().flush()
    record(acc, "health.problem.resolve", problem=row.id)
    return row


def problems(acc: FileAccess, *, active_only: bool = False) -> list[Problem]:
    stmt = select(Problem).where(Problem.file_id == acc.file.id)
    if active_only:
        stmt = stmt.where(Problem.status == ProblemStatus.active)
    return list(db_session().scalars(stmt.order_by(Problem.status, Problem.created_at.desc())))


# --- vaccinations -------------------------------------------------------------------------------


def add_vaccination(
    acc: FileAccess, vaccine: Any, given_on: dt.date | None, dose: Any = "", lot: Any = ""
) -> Vaccination:
    _writable(acc)
    if given_on is None:
        raise invalid(given_on=_("This field is required."))
    check_date(given_on, "given_on")
    if given_on > utcnow().date():
        raise invalid(given_on=_("This date is in the future."))
    row = Vaccination(
        **_part(acc),
        vaccine=clean_text(vaccine, "vaccine", required=True, max_len=MAX_SHORT, line=True),
        dose=clean_text(dose, "dose", max_len=40, line=True),
        lot=clean_text(lot, "lot", max_len=40, line=True),
        given_on=given_on,
    )
    db_session().add(row)
    db_session().flush()
    record(acc, "health.vaccination.add", vaccination=row.id)
    return row


def vaccinations(acc: FileAccess) -> list[Vaccination]:
    return list(
        db_session().scalars(
            select(Vaccination)
            .where(Vaccination.file_id == acc.file.id)
            .order_by(Vaccination.given_on.desc())
        )
    )


# --- history ------------------------------------------------------------------------------------


def history(acc: FileAccess, page: int, per_page: int) -> tuple[list[Change], int]:
    base = select(Change).where(Change.file_id == acc.file.id)
    order = (Change.changed_at.desc(), Change.id.desc())
    return fetch_page(db_session(), base, order, page, per_page)
