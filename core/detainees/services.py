"""Detainee rules: admission, edits, release, moves between establishments, search.

Lifecycle events go through the plugin hooks *inside* the transaction of the change, so a
plugin's reaction commits or rolls back with it; vetoes are asked first.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import bindparam, delete, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from core import vetoes
from core.audit import services as audit
from core.db import built_once, utcnow
from core.db import session as db_session
from core.detainees import duplicates, names
from core.detainees.models import Counter, Detainee, DetaineeNameKey, LegalStatus, Placement, Sex
from core.detainees.profile_read import with_placements_read
from core.detainees.search import SearchPage, search  # noqa: F401
from core.errors import Conflict, NotFound, ValidationFailed
from core.establishments.models import Establishment
from core.establishments.services import get_by_code
from core.identity.models import User
from core.identity.services import require
from core.plugins import hook
from core.principals import Principal
from core.scoping import can_see_establishment, ensure_in_scope
from core.validation import NATIONAL_ID_RE, ascii_digits
from core.vetoes import MoveContext, ReleaseContext

REGNO_RE = re.compile(r"^\d{4}-\d{6,}$")
MIN_BIRTH = dt.date(1900, 1, 1)
MIN_AGE_YEARS = 12
EDITABLE = (
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "sex",
    "national_id",
    "legal_status",
)


# --------------------------------------------------------------------------------------------
# Registration numbers
# --------------------------------------------------------------------------------------------


def next_counter(name: str) -> int:
    """Advance a named counter atomically, in one statement: ``INSERT … VALUES (:name, 1) ON
    CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value`` (the row lock of the
    conflicting row orders concurrent callers; SQLite's transactions are ``BEGIN IMMEDIATE``).
    Built once per dialect and sent by Core on the session's connection: an ORM-enabled
    ``INSERT … RETURNING`` goes through the ORM's bulk insert machinery, twice the
    instructions of the same statement (every deposit draws a receipt number here)."""
    sess = db_session()
    value = sess.connection().scalar(_counter_upsert(sess.get_bind().dialect.name), {"name": name})
    return int(value)


@cache
def _counter_upsert(dialect: str) -> Any:
    table = Counter.__table__
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    return (
        ins(table)
        .values(name=bindparam("name"), value=1)
        .on_conflict_do_update(index_elements=["name"], set_={"value": table.c.value + 1})
        .returning(table.c.value)
    )


def new_registration_number(year: int | None = None) -> str:
    year = year or utcnow().year
    return f"{year}-{next_counter(f'regno-{year}'):06d}"


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def validate_detainee_fields(data: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Check and clean the personal fields; raise :class:`ValidationFailed` with per-field text."""
    errors: dict[str, Any] = {}
    clean: dict[str, Any] = {}

    def text(field: str, required: bool, max_len: int = 100) -> None:
        if field not in data:
            if required and not partial:
                errors[field] = _("This field is required.")
            return
        value = data.get(field)
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field] = _("Enter text.")
            return
        value = " ".join(value.split())
        if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in value):
            errors[field] = _("Enter text.")
        elif required and not value:
            errors[field] = _("This field is required.")
        elif len(value) > max_len:
            errors[field] = ngettext(
                "At most %(num)d character.", "At most %(num)d characters.", max_len
            )
        else:
            clean[field] = value

    text("first_name", True)
    text("last_name", True)
    text("first_name_ar", False)
    text("last_name_ar", False)
    for field in ("first_name_ar", "last_name_ar"):
        if clean.get(field) and not names.is_arabic(clean[field]):
            errors[field] = _("Write this name in Arabic script.")

    if "birth_date" in data or not partial:
        birth = _parse_date(data.get("birth_date"))
        today = utcnow().date()
        if birth is None:
            errors["birth_date"] = _("Enter a date as YYYY-MM-DD.")
        elif birth < MIN_BIRTH or birth > today.replace(year=today.year - MIN_AGE_YEARS):
            errors["birth_date"] = _("This birth date is not plausible.")
        else:
            clean["birth_date"] = birth
    if "sex" in data or not partial:
        sex = data.get("sex")
        if sex not in ("M", "F"):
            errors["sex"] = _("Choose M or F.")
        else:
            clean["sex"] = Sex(sex)
    if "national_id" in data:
        nid = data.get("national_id")
        if nid in (None, ""):
            clean["national_id"] = None
        elif not isinstance(nid, str) or not NATIONAL_ID_RE.match(
            ascii_digits(nid).strip().upper()
        ):
            errors["national_id"] = _("Enter the national identity card number, e.g. BE123456.")
        else:
            clean["national_id"] = ascii_digits(nid).strip().upper()
    if "legal_status" in data or not partial:
        status = data.get("legal_status")
        if status not in (LegalStatus.pretrial.value, LegalStatus.convicted.value):
            errors["legal_status"] = _("Choose pretrial or convicted.")
        else:
            clean["legal_status"] = LegalStatus(status)
    if errors:
        raise ValidationFailed(_("Please correct the highlighted fields."), fields=errors)
    return clean


# --------------------------------------------------------------------------------------------
# Search keys
# --------------------------------------------------------------------------------------------


def refresh_name_keys(detainee: Detainee) -> None:
    sess = db_session()
    if detainee.id is not None:
        sess.execute(delete(DetaineeNameKey).where(DetaineeNameKey.detainee_id == detainee.id))
    keys = names.name_keys(
        detainee.first_name, detainee.last_name, detainee.first_name_ar, detainee.last_name_ar
    )
    for key in sorted(keys):
        sess.add(
            DetaineeNameKey(
                detainee_id=detainee.id,
                key=key[:60],
                establishment_id=detainee.establishment_id,
            )
        )


KEYS_VERSION_COUNTER = "name-keys-version"


def stored_keys_version() -> int:
    counter = db_session().get(Counter, KEYS_VERSION_COUNTER)
    return counter.value if counter is not None else 0


def reindex_names(*, batch: int = 2000, force: bool = False) -> int:
    """Rebuild every detainee's search keys when :data:`names.KEYS_VERSION` changed (or
    ``force``). Returns how many detainees were reindexed; the caller commits."""
    sess = db_session()
    if not force and stored_keys_version() == names.KEYS_VERSION:
        return 0
    done = 0
    last_id = 0
    while True:
        rows = sess.execute(
            select(
                Detainee.id,
                Detainee.establishment_id,
                Detainee.first_name,
                Detainee.last_name,
                Detainee.first_name_ar,
                Detainee.last_name_ar,
            )
            .where(Detainee.id > last_id)
            .order_by(Detainee.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        ids = [row.id for row in rows]
        sess.execute(delete(DetaineeNameKey).where(DetaineeNameKey.detainee_id.in_(ids)))
        sess.execute(
            DetaineeNameKey.__table__.insert(),
            [
                {
                    "detainee_id": row.id,
                    "establishment_id": row.establishment_id,
                    "key": key[:60],
                    "weight": 1,
                }
                for row in rows
                for key in sorted(names.name_keys(*row[2:]))
            ],
        )
        done += len(rows)
        last_id = ids[-1]
    counter = sess.get(Counter, KEYS_VERSION_COUNTER)
    if counter is None:
        sess.add(Counter(name=KEYS_VERSION_COUNTER, value=names.KEYS_VERSION))
    else:
        counter.value = names.KEYS_VERSION
    sess.flush()
    return done


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


@built_once
def _by_number() -> Any:
    return select(Detainee).where(Detainee.registration_number == bindparam("rn"))


def get_detainee(
    registration_number: str, user: Principal, *, with_placements: bool = False
) -> Detainee:
    """The record, if the user may see it (otherwise 404: another establishment's records do
    not exist for them). ``with_placements``: its placement history read in the same
    statement (the profile shows it), not by a second one when first used."""
    rn = ascii_digits(registration_number or "").strip()
    det = None
    if REGNO_RE.match(rn):
        if with_placements:
            det = with_placements_read(rn)
        else:
            det = db_session().scalars(_by_number(), {"rn": rn}).one_or_none()
    require(user, "detainees.view")
    if det is None or not can_see_establishment(user, det.establishment_id):
        # the same answer for another establishment's record: it does not exist for this user
        raise NotFound(_("No detainee with this registration number."), code="detainee_not_found")
    return det


# --------------------------------------------------------------------------------------------
# Admission, edits, release, moves
# --------------------------------------------------------------------------------------------


def _already_held() -> Conflict:
    """The 409 of a national id already held (a race lost on the unique index)."""
    return duplicates.already_held(None)


@contextmanager
def _held_once() -> Iterator[None]:
    """Turn the database's "held once" unique index into the same 409 as the service check
    (two simultaneous admissions of one national id: the second one loses cleanly)."""
    sess = db_session()
    try:
        with sess.begin_nested():
            yield
    except IntegrityError as exc:
        if "national_id" in str(exc.orig):
            raise _already_held() from exc
        raise


def admit(
    data: Mapping[str, Any],
    actor: Principal,
    *,
    admitted_at: dt.datetime | None = None,
    warn_namesakes: bool = False,
) -> Detainee:
    """Admit a detainee into an establishment the actor works at.

    A national id already held anywhere is refused (409 ``already_held``, naming where). With
    ``warn_namesakes`` — the admission page and API, until the clerk confirms — a person with
    the same names and birth date held anywhere is a 409 ``possible_duplicate``."""
    require(actor, "detainees.admit")
    clean = validate_detainee_fields(data)
    code = data.get("establishment")
    if not isinstance(code, str) or not code.strip():
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"establishment": _("This field is required.")},
        )
    try:
        est = get_by_code(code, actor)
    except NotFound as exc:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"establishment": _("Unknown establishment.")},
        ) from exc
    if not est.active:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"establishment": _("This establishment is closed.")},
        )
    sess = db_session()
    if clean.get("national_id"):
        held = duplicates.held_with_national_id(clean["national_id"])
        if held is not None:
            raise duplicates.already_held(held)
    if warn_namesakes:
        found = duplicates.namesakes(clean)
        if found:
            raise duplicates.possible_duplicate(found)
    when = admitted_at or utcnow()
    det = Detainee(
        registration_number=new_registration_number(when.year),
        establishment_id=est.id,
        admitted_at=when,
        first_name_ar=clean.pop("first_name_ar", ""),
        last_name_ar=clean.pop("last_name_ar", ""),
        **clean,
    )
    det.establishment = est
    with _held_once():
        sess.add(det)
        sess.flush()
    det.placements.append(
        Placement(detainee_id=det.id, establishment_id=est.id, started_at=when, reason="admission")
    )
    refresh_name_keys(det)
    sess.flush()
    audit.record(
        "detainee.admit",
        "detainee",
        det.registration_number,
        establishment_id=est.id,
        summary={"name": det.full_name, "legal_status": det.legal_status.value},
        actor=actor,
    )
    hook().on_detainee_admitted(detainee=det, actor=actor)
    return det


def update_detainee(det: Detainee, data: Mapping[str, Any], actor: User) -> Detainee:
    require(actor, "detainees.edit")
    ensure_in_scope(actor, det.establishment_id)
    if det.is_released:
        raise Conflict(_("A released detainee's record can no longer be edited."), code="released")
    clean = validate_detainee_fields({k: v for k, v in data.items() if k in EDITABLE}, partial=True)
    if clean.get("legal_status") == LegalStatus.released:
        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={"legal_status": _("Choose pretrial or convicted.")},
        )
    nid = clean.get("national_id")
    if nid and nid != det.national_id:
        other = duplicates.held_with_national_id(nid)
        if other is not None and other.id != det.id:
            raise duplicates.already_held(other)
    diff: dict[str, list[Any]] = {}
    for key, value in clean.items():
        old = getattr(det, key)
        if old != value:
            diff[key] = [
                str(old) if old is not None else None,
                str(value) if value is not None else None,
            ]
            setattr(det, key, value)
    if diff:
        with _held_once():
            db_session().flush()
        if {"first_name", "last_name", "first_name_ar", "last_name_ar"} & diff.keys():
            refresh_name_keys(det)
        audit.record(
            "detainee.update",
            "detainee",
            det.registration_number,
            establishment_id=det.establishment_id,
            summary=diff,
            actor=actor,
        )
    return det


def lock_detainee(det: Detainee) -> Detainee:
    """Take the detainee's row lock for the rest of the transaction: the FIRST step of the
    lock order (``docs/architecture.md``), before any module's own rows.

    Everything that changes where a detainee is held or whether they are held (release, move)
    and everything that depends on it (a visit booking, an order) takes it, then re-reads the
    record, so two of them on one detainee run one after the other and the second sees what
    the first committed. PostgreSQL: ``SELECT … FOR UPDATE``; SQLite: every transaction is
    ``BEGIN IMMEDIATE`` and already holds the database's write lock.
    """
    # One statement: the lock and the re-read together (``SELECT <columns> FROM
    # core_detainees … FOR UPDATE``). A refresh is a load of a record the caller already
    # holds, so the query layer's scoping does not filter it. Columns only, no join: after a
    # wait for the lock PostgreSQL re-checks only the locked row, and a joined establishment
    # would come back empty for a detainee moved meanwhile. The relationships (establishment,
    # placements) stay expired and are read again when next used. SQLite renders no FOR
    # UPDATE.
    sess = db_session()
    sess.expire(det)
    sess.refresh(det, attribute_names=_detainee_columns(), with_for_update=True)
    return det


def locked_detainees(stmt: Any) -> Any:
    """``stmt``, a ``select(Detainee)…`` that finds the record (a family's link, a
    registration number…), made to take the same row lock as :func:`lock_detainee` in the
    same statement: found and locked in one round trip instead of two.

    ``FOR UPDATE OF core_detainees`` only; the establishment is not joined (after a wait for
    the lock PostgreSQL re-checks the joined rows as they were, and an establishment left by a
    detainee moved meanwhile would come back empty: it is read when next used, as after
    :func:`lock_detainee`); ``populate_existing``: a record already in the session is
    overwritten with what the lock read, never the older state. The lock order is the same:
    the detainee row first."""
    return (
        stmt.options(lazyload(Detainee.establishment))
        .with_for_update(of=Detainee)
        .execution_options(populate_existing=True)
    )


@cache
def _detainee_columns() -> tuple[str, ...]:
    return tuple(attr.key for attr in sa_inspect(Detainee).column_attrs)


def _may_move(actor: Principal, det: Detainee, destination: Establishment) -> None:
    require(actor, "detainees.move")
    if not (
        can_see_establishment(actor, det.establishment_id)
        or can_see_establishment(actor, destination.id)
    ):
        raise NotFound(_("No detainee with this registration number."), code="detainee_not_found")


def release_blockers(det: Detainee, actor: Principal, note: str = "") -> list[vetoes.Blocker]:
    """What would stop this release now (the release page lists them before the clerk
    confirms); the same question :func:`release` asks."""
    if det.is_released:
        return []
    context = ReleaseContext(detainee=det, actor=actor, date=utcnow().date(), note=note)
    return vetoes.ask("release_blockers", detainee=det, context=context)


def release(det: Detainee, actor: Principal, *, note: str = "", override: bool = False) -> Detainee:
    """Release a detainee. Modules' blockers stop it (all shown at once); a director may
    override blockers that are all overridable (``override=True``), which is audited."""
    require(actor, "detainees.release")
    ensure_in_scope(actor, det.establishment_id)
    lock_detainee(det)
    if det.is_released:
        raise Conflict(_("This detainee is already released."), code="already_released")
    now = utcnow()
    context = ReleaseContext(detainee=det, actor=actor, date=now.date(), note=note)
    overridden = vetoes.check(
        "release_blockers",
        vetoes.RELEASE_BLOCKED,
        actor,
        override=override,
        detainee=det,
        context=context,
    )
    before = det.legal_status.value
    det.legal_status = LegalStatus.released
    det.released_at = now
    for placement in det.placements:
        if placement.ended_at is None:
            placement.ended_at = now
    det.placements.append(
        Placement(
            detainee_id=det.id,
            establishment_id=det.establishment_id,
            started_at=now,
            ended_at=now,
            reason="release",
            note=note[:300],
        )
    )
    db_session().flush()
    summary: dict[str, Any] = {"legal_status": [before, "released"], "note": note}
    if overridden:
        summary["overridden"] = [f"{b.module}.{b.code}" for b in overridden]
    audit.record(
        "detainee.release",
        "detainee",
        det.registration_number,
        establishment_id=det.establishment_id,
        summary=summary,
        actor=actor,
    )
    hook().on_detainee_released(detainee=det, actor=actor)
    return det


def move(
    det: Detainee,
    destination: Establishment,
    actor: Principal,
    *,
    reason: str = "transfer",
    note: str = "",
    kind: str = "transfer",
    override: bool = False,
    waived: Collection[tuple[str, str]] = (),
) -> Detainee:
    """Move a detainee to another establishment (used by the transfers module), atomically.

    Checks the actor's permission (``detainees.move``) and that they work at the origin or
    the destination, takes the detainee's lock first (the lock order), asks the modules'
    ``transfer_blockers`` with a :class:`~core.vetoes.MoveContext`, then moves and tells
    ``on_detainee_transferred`` inside the same transaction. ``waived``: overridable blockers
    a director already went ahead over (``(module, code)`` pairs; see :func:`core.vetoes.check`).
    """
    _may_move(actor, det, destination)
    lock_detainee(det)
    if det.is_released:
        raise Conflict(_("A released detainee cannot be moved."), code="released")
    if destination.id == det.establishment_id:
        raise ValidationFailed(
            _("The detainee is already held there."),
            fields={"destination": _("The detainee is already held there.")},
        )
    if not destination.active:
        raise ValidationFailed(
            _("This establishment is closed."),
            fields={"destination": _("This establishment is closed.")},
        )
    sess = db_session()
    source = det.establishment
    now = utcnow()
    context = MoveContext(
        detainee=det,
        origin=source,
        destination=destination,
        actor=actor,
        kind=kind,
        reason=reason,
        date=now.date(),
    )
    overridden = vetoes.check(
        "transfer_blockers",
        vetoes.MOVE_BLOCKED,
        actor,
        override=override,
        waived=waived,
        detainee=det,
        destination=destination,
        context=context,
    )
    for placement in det.placements:
        if placement.ended_at is None:
            placement.ended_at = now
    det.establishment_id = destination.id
    det.establishment = destination
    det.placements.append(
        Placement(
            detainee_id=det.id,
            establishment_id=destination.id,
            started_at=now,
            reason=reason,
            note=note[:300],
        )
    )
    sess.flush()
    summary: dict[str, Any] = {"establishment": [source.code, destination.code], "note": note}
    if overridden:
        summary["overridden"] = [f"{b.module}.{b.code}" for b in overridden]
    audit.record(
        "detainee.transfer",
        "detainee",
        det.registration_number,
        establishment_id=destination.id,
        summary=summary,
        actor=actor,
    )
    hook().on_detainee_transferred(
        detainee=det, source=source, destination=destination, actor=actor
    )
    return det
