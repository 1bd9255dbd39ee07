"""Is the person being admitted already held somewhere in the country?

Two checks at admission, across every establishment (the clerk only sees their own, so the
lookup goes through the audited scoping bypass, :func:`core.scoping.unscoped`):

- **the same national identity card** held anywhere: refused (a person is held once; the
  database's partial unique index guarantees it under concurrency), with words the clerk can act
  on — who holds it, where, since when, and that a transfer is the way to move them;
- **the same names and birth date** (in Latin or in Arabic script): a warning only — namesakes
  exist — that the clerk answers by confirming that this is a different person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select

from core.db import session as db_session
from core.detainees.models import Detainee, LegalStatus
from core.errors import Conflict
from core.i18n import current_language
from core.scoping import unscoped

CHECK_REASON = "admission: is this person already held elsewhere?"
MAX_SHOWN = 3


def _where(det: Detainee) -> str:
    est = det.establishment
    return est.name(current_language()) if est is not None else ""


def _describe(det: Detainee) -> str:
    return _(
        "%(name)s, registration number %(rn)s, held at %(establishment)s since %(date)s",
        name=det.full_name,
        rn=det.registration_number,
        establishment=_where(det),
        date=format_date(det.admitted_at, "medium"),
    )


def held_with_national_id(national_id: str) -> Detainee | None:
    """The detainee held anywhere with this national id, if any (audited bypass)."""
    with unscoped(CHECK_REASON):
        return db_session().scalar(
            select(Detainee).where(
                Detainee.national_id == national_id,
                Detainee.legal_status != LegalStatus.released,
            )
        )


def already_held(det: Detainee | None) -> Conflict:
    """The 409 for a national id already held, naming who holds it and where when known."""
    if det is None:
        return Conflict(
            _("A detainee with this national identity card is already held."),
            code="already_held",
            fields={"national_id": _("Already held.")},
        )
    return Conflict(
        _(
            "This national identity card belongs to %(who)s. If this is the same person, ask "
            "for a transfer instead of admitting them again.",
            who=_describe(det),
        ),
        code="already_held",
        fields={
            "national_id": _(
                "Already held at %(establishment)s (%(rn)s).",
                establishment=_where(det),
                rn=det.registration_number,
            )
        },
    )


def namesakes_of(det: Detainee) -> list[Detainee]:
    """The others held anywhere with ``det``'s names and birth date."""
    fields = {
        "birth_date": det.birth_date,
        "first_name": det.first_name,
        "last_name": det.last_name,
        "first_name_ar": det.first_name_ar,
        "last_name_ar": det.last_name_ar,
    }
    return namesakes(fields, exclude_id=det.id)


def namesakes(clean: Mapping[str, Any], *, exclude_id: int | None = None) -> list[Detainee]:
    """Detainees held anywhere with the same birth date and the same names (Latin, or Arabic
    when given), ignoring case and spaces around; at most :data:`MAX_SHOWN` + 1."""
    born = clean.get("birth_date")
    if not isinstance(born, dt.date):
        return []

    def same(column: Any, value: Any) -> Any:
        return func.lower(func.trim(column)) == str(value or "").strip().lower()

    latin = and_(
        same(Detainee.first_name, clean.get("first_name")),
        same(Detainee.last_name, clean.get("last_name")),
    )
    conditions = [latin]
    if (
        str(clean.get("first_name_ar") or "").strip()
        and str(clean.get("last_name_ar") or "").strip()
    ):
        conditions.append(
            and_(
                same(Detainee.first_name_ar, clean.get("first_name_ar")),
                same(Detainee.last_name_ar, clean.get("last_name_ar")),
            )
        )
    with unscoped(CHECK_REASON):
        return list(
            db_session().scalars(
                select(Detainee)
                .where(
                    Detainee.birth_date == born,
                    Detainee.legal_status != LegalStatus.released,
                    Detainee.id != (exclude_id or 0),
                    or_(*conditions),
                )
                .order_by(Detainee.admitted_at.desc())
                .limit(MAX_SHOWN + 1)
            )
        )


def possible_duplicate(found: list[Detainee]) -> Conflict:
    """The 409 that asks the clerk to confirm a namesake is a different person."""
    shown = "; ".join(_describe(det) for det in found[:MAX_SHOWN])
    return Conflict(
        _(
            "A person with the same names and birth date is already held: %(who)s. If it is "
            "the same person, ask for a transfer instead. If not, confirm that this is a "
            "different person and save again.",
            who=shown,
        ),
        code="possible_duplicate",
        fields={
            "confirm_not_duplicate": _(
                "Check the people above, then confirm that this is a different person."
            )
        },
    )
