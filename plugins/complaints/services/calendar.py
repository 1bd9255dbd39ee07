"""Working days on the national calendar the central administration keeps.

Saturday and Sunday are not worked (the Moroccan administration works Monday to Friday), nor
the public holidays. A year's holidays are proposed from ``holidays.Morocco`` — the fixed
national days and the religious ones it estimates from the Hijri calendar — into
``complaints_holidays`` (:func:`propose_year`); central administrators then correct a date when
the moon is sighted, add or remove a day. A year never proposed uses the package as it is.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import holidays
from flask_babel import gettext as _
from sqlalchemy import delete, select

from core.audit import services as audit
from core.db import session as db_session
from core.db import utcnow
from core.errors import Conflict, NotFound, ValidationFailed
from core.i18n import local_zone
from core.identity.services import require
from core.principals import Principal
from core.validation import storable

from ..models import CalendarYear, Holiday
from ..permissions import CALENDAR

WEEKEND = frozenset({5, 6})  # Saturday, Sunday (date.weekday())
_ESTIMATED = re.compile(r"\s*\((estimated|تقديري|estimé|estimée|estimation)\)\s*$", re.I)
MIN_YEAR, MAX_YEAR = 2000, 2100


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or utcnow()).astimezone(local_zone()).date()


def local_day(moment: dt.datetime) -> dt.date:
    return moment.astimezone(local_zone()).date()


def package_holidays(year: int) -> list[tuple[dt.date, str, str, str, bool]]:
    """The package's holidays of ``year``: (day, name in ar, fr, en, estimated)."""
    names = {
        lang: holidays.Morocco(years=year, language=code)
        for lang, code in (("ar", "ar"), ("fr", "fr"), ("en", "en_US"))
    }
    rows = []
    for day in sorted(names["en"]):
        en = names["en"][day]
        # two holidays on one day are joined by "; "
        estimated = "estimated" in en.lower()
        rows.append(
            (
                day,
                "; ".join(_ESTIMATED.sub("", n) for n in names["ar"][day].split("; ")),
                "; ".join(_ESTIMATED.sub("", n) for n in names["fr"][day].split("; ")),
                "; ".join(_ESTIMATED.sub("", n) for n in en.split("; ")),
                estimated,
            )
        )
    return rows


def proposed_years() -> set[int]:
    return set(db_session().scalars(select(CalendarYear.year)))


def holidays_between(start: dt.date, end: dt.date) -> set[dt.date]:
    """Every public holiday from ``start`` to ``end`` included: the table's for proposed years,
    the package's for the others."""
    years = set(range(start.year, end.year + 1))
    kept = proposed_years() & years
    days: set[dt.date] = set()
    if kept:
        days |= set(
            db_session().scalars(
                select(Holiday.day).where(Holiday.day >= start, Holiday.day <= end)
            )
        )
    for year in years - kept:
        days |= {d for d, *_rest in package_holidays(year) if start <= d <= end}
    return days


def is_working_day(day: dt.date, off: Iterable[dt.date] | None = None) -> bool:
    if day.weekday() in WEEKEND:
        return False
    off_days = set(off) if off is not None else holidays_between(day, day)
    return day not in off_days


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted: a
    complaint received on Friday with 1 working day is due on Monday, unless a holiday)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    # a generous window: weekends and at most ~20 holidays a year
    horizon = start + dt.timedelta(days=days * 2 + 40)
    off = holidays_between(start, horizon)
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() not in WEEKEND and day not in off:
            left -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days after ``start`` up to ``end`` included (0 when end <= start)."""
    if end <= start:
        return 0
    off = holidays_between(start, end)
    n, day = 0, start
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() not in WEEKEND and day not in off:
            n += 1
    return n


# ---------------------------------------------------------------------------------------------
# Keeping the calendar (central administration)
# ---------------------------------------------------------------------------------------------


def year_holidays(year: int) -> list[Holiday]:
    return list(
        db_session().scalars(
            select(Holiday)
            .where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
            .order_by(Holiday.day)
        )
    )


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            _("Choose a year from %(lo)s to %(hi)s.", lo=MIN_YEAR, hi=MAX_YEAR),
            fields={"year": _("Choose a year from %(lo)s to %(hi)s.", lo=MIN_YEAR, hi=MAX_YEAR)},
        )


def propose_year(year: int, actor: Principal) -> int:
    """Fill ``year`` from ``holidays.Morocco`` (days already in the table are kept as they
    are); from then on the table is that year's calendar. Returns how many days were added."""
    require(actor, CALENDAR)
    _check_year(year)
    sess = db_session()
    existing = {h.day for h in year_holidays(year)}
    added = 0
    who = getattr(actor, "username", "")
    for day, ar, fr, en, estimated in package_holidays(year):
        if day in existing:
            continue
        sess.add(
            Holiday(
                day=day, name_ar=ar, name_fr=fr, name_en=en, estimated=estimated, updated_by=who
            )
        )
        added += 1
    if sess.get(CalendarYear, year) is None:
        sess.add(CalendarYear(year=year, proposed_by=who))
    sess.flush()
    audit.record(
        "complaints.calendar.propose",
        "complaints_calendar",
        year,
        summary={"year": year, "added": added},
        actor=actor,
    )
    return added


def _names(data: dict[str, str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    names = {}
    for lang in ("ar", "fr", "en"):
        value = (data.get(f"name_{lang}") or "").strip()
        if len(value) > 120 or not storable(value) or "\n" in value or "\r" in value:
            errors[f"name_{lang}"] = _("Write at most 120 characters on one line.")
        names[f"name_{lang}"] = value
    if not any(names.values()):
        errors["name_fr"] = _("Give the holiday a name.")
    if errors:
        raise ValidationFailed(_("Check the holiday."), fields=errors)
    return names


def _day_free(day: dt.date, but: int | None = None) -> None:
    other = db_session().scalar(select(Holiday).where(Holiday.day == day))
    if other is not None and other.id != but:
        raise Conflict(
            _("This day is already a holiday."),
            code="holiday_exists",
            fields={"day": _("This day is already a holiday.")},
        )


def _ensure_year(day: dt.date, actor: Principal) -> None:
    """Editing a year never proposed proposes it first, so the package's other days stay."""
    if db_session().get(CalendarYear, day.year) is None:
        propose_year(day.year, actor)


def add_holiday(day: dt.date, data: dict[str, str], actor: Principal) -> Holiday:
    require(actor, CALENDAR)
    _check_year(day.year)
    names = _names(data)
    _ensure_year(day, actor)
    _day_free(day)
    holiday = Holiday(day=day, confirmed=True, updated_by=getattr(actor, "username", ""), **names)
    db_session().add(holiday)
    db_session().flush()
    audit.record(
        "complaints.calendar.add",
        "complaints_holiday",
        holiday.id,
        summary={"day": day.isoformat(), **names},
        actor=actor,
    )
    return holiday


def move_holiday(holiday_id: int, day: dt.date, actor: Principal) -> Holiday:
    """Correct a holiday's date (the moon was sighted a day later): confirmed from then on."""
    require(actor, CALENDAR)
    holiday = db_session().get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound(_("No such holiday."))
    _check_year(day.year)
    _day_free(day, but=holiday.id)
    old = holiday.day
    holiday.day = day
    holiday.confirmed = True
    holiday.estimated = False
    holiday.updated_by = getattr(actor, "username", "")
    holiday.updated_at = utcnow()
    db_session().flush()
    audit.record(
        "complaints.calendar.move",
        "complaints_holiday",
        holiday.id,
        summary={"day": [old.isoformat(), day.isoformat()]},
        actor=actor,
    )
    return holiday


def remove_holiday(holiday_id: int, actor: Principal) -> None:
    require(actor, CALENDAR)
    holiday = db_session().get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound(_("No such holiday."))
    summary = {"day": holiday.day.isoformat(), "name_fr": holiday.name_fr}
    _ensure_year(holiday.day, actor)
    db_session().execute(delete(Holiday).where(Holiday.id == holiday_id))
    audit.record(
        "complaints.calendar.remove", "complaints_holiday", holiday_id, summary=summary, actor=actor
    )
