"""Working-day deadlines across weekends and holidays, and the calendar the central
administration keeps (proposed from holidays.Morocco, corrected when the moon is sighted)."""

from __future__ import annotations

import datetime as dt

import pytest

from core.db import session
from core.errors import Conflict, Forbidden
from core.principals import SYSTEM
from plugins.complaints import services
from plugins.complaints.models import Holiday

D = dt.date


def test_weekends_are_not_working_days(app) -> None:
    with app.app_context():
        # 2026-03-02 is a Monday; no holiday that week
        assert services.add_working_days(D(2026, 3, 2), 1) == D(2026, 3, 3)
        assert services.add_working_days(D(2026, 3, 2), 5) == D(2026, 3, 9)  # over a weekend
        # received on Friday: one working day later is Monday
        assert services.add_working_days(D(2026, 3, 6), 1) == D(2026, 3, 9)
        # received on Saturday: Monday is the first working day
        assert services.add_working_days(D(2026, 3, 7), 1) == D(2026, 3, 9)
        assert services.add_working_days(D(2026, 3, 2), 0) == D(2026, 3, 2)
        assert not services.is_working_day(D(2026, 3, 7))
        assert not services.is_working_day(D(2026, 3, 8))
        assert services.is_working_day(D(2026, 3, 9))


def test_fixed_and_estimated_religious_holidays_are_skipped(app) -> None:
    with app.app_context():
        # 2026-04-30 Thursday; 1 May (Friday) Labour Day; then the weekend
        assert services.add_working_days(D(2026, 4, 30), 1) == D(2026, 5, 4)
        # Eid al-Fitr estimated on Friday 20 and Saturday 21 March 2026
        assert services.add_working_days(D(2026, 3, 19), 1) == D(2026, 3, 23)
        # Throne Day, Thursday 30 July 2026
        assert services.add_working_days(D(2026, 7, 29), 1) == D(2026, 7, 31)
        # August 2026: 14 (Fri), 20 (Thu), 21 (Fri) fixed, 25-26 (Tue-Wed) the Prophet's
        # birthday as estimated: from Thursday 13, the working days are 17, 18, 19, 24, 27
        assert services.add_working_days(D(2026, 8, 13), 5) == D(2026, 8, 27)
        assert services.working_days_between(D(2026, 8, 13), D(2026, 8, 27)) == 5
        assert services.working_days_between(D(2026, 8, 13), D(2026, 8, 26)) == 4
        # across the new year: 1 January 2027 (Friday) is a holiday
        assert services.add_working_days(D(2026, 12, 31), 1) == D(2027, 1, 4)


def test_the_calendar_is_proposed_then_corrected_when_the_moon_is_sighted(app) -> None:
    with app.app_context():
        added = services.propose_year(2026, SYSTEM)
        assert added == len(services.package_holidays(2026)) == 18
        assert services.propose_year(2026, SYSTEM) == 0  # idempotent
        eid = next(h for h in services.year_holidays(2026) if h.day == D(2026, 3, 20))
        assert eid.estimated and eid.name_ar.startswith("عيد الفطر") and "(" not in eid.name_fr
        # Eid al-Fitr a day later than estimated: 20 March becomes a working day
        services.move_holiday(eid.id, D(2026, 3, 22), SYSTEM)
        second = next(h for h in services.year_holidays(2026) if h.day == D(2026, 3, 21))
        services.move_holiday(second.id, D(2026, 3, 23), SYSTEM)
        assert services.is_working_day(D(2026, 3, 20))
        assert services.add_working_days(D(2026, 3, 19), 1) == D(2026, 3, 20)
        assert services.add_working_days(D(2026, 3, 20), 1) == D(2026, 3, 24)
        with pytest.raises(Conflict):
            services.move_holiday(second.id, D(2026, 5, 1), SYSTEM)  # Labour Day is taken
        # a day added and removed
        h = services.add_holiday(D(2026, 6, 2), {"name_fr": "Deuil national"}, SYSTEM)
        assert not services.is_working_day(D(2026, 6, 2))
        services.remove_holiday(h.id, SYSTEM)
        assert services.is_working_day(D(2026, 6, 2))
        # a removed package day stays removed: the table is the year's calendar now
        labour = next(h for h in services.year_holidays(2026) if h.day == D(2026, 5, 1))
        services.remove_holiday(labour.id, SYSTEM)
        assert services.is_working_day(D(2026, 5, 1))
        session().rollback()


def test_editing_a_year_never_proposed_keeps_the_package_days(app) -> None:
    with app.app_context():
        services.add_holiday(D(2031, 6, 3), {"name_ar": "يوم حداد"}, SYSTEM)
        assert not services.is_working_day(D(2031, 1, 1))  # proposed with it
        days = {h.day for h in session().query(Holiday).all() if h.day.year == 2031}
        assert D(2031, 6, 3) in days and D(2031, 1, 1) in days
        session().rollback()


def test_only_the_central_administration_keeps_the_calendar(app, factories) -> None:
    with app.app_context():
        director = factories.user("director", ("EST-A",))
        with pytest.raises(Forbidden):
            services.propose_year(2026, director)
        admin = factories.user("central_admin")
        assert services.propose_year(2027, admin) > 0
        session().rollback()
