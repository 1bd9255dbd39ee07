"""The figures page matches the data: known complaints are seeded and every count is checked
(by category, establishment, status, outcome; answered, on time, median; the 12 months), on the
service, the page and the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from core.db import session
from core.i18n import local_day
from core.principals import SYSTEM
from core.testing import TEST_PASSWORD
from plugins.complaints import services
from plugins.complaints.models import Complaint, Outcome, Status
from plugins.complaints.services.categories import all_categories


@pytest.fixture
def seeded(app, factories):
    """Eight complaints whose every figure is known.

    EST-A: food ×3 (answered 2 days after, on time, founded; answered 10 days after, late,
    unfounded; open), treatment ×2 (one confidential, open; one inadmissible after 4 days),
    visits.visit ×1 (answered after 6 days, on time, closed partly founded).
    EST-B: food ×1 (open), other ×1 (withdrawn).
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with app.app_context():
        a = [factories.detainee("EST-A") for _i in range(2)]
        b = factories.detainee("EST-B")
        cats = {c.code: c for c in all_categories()}
        from plugins.complaints.models import Channel
        from plugins.complaints.services.filing import record

        def make(det, code, days_ago, **kw):
            c = record(
                SYSTEM,
                det,
                author=None,
                category=cats[code],
                channel=Channel.written,
                subject=f"{code} {days_ago}",
                body="…",
                received_at=now - dt.timedelta(days=days_ago),
                confidential=kw.get("confidential", False),
            )
            return c

        def answered(c, after_days, outcome=Outcome.none, status=Status.answered):
            c.first_answered_at = c.answered_at = c.received_at + dt.timedelta(days=after_days)
            c.status = status
            c.outcome = outcome
            # due dates are local days, as the service sets them (late evening UTC is already
            # the next day in Casablanca)
            c.first_due_on = c.due_on = local_day(c.received_at + dt.timedelta(days=5))

        c1 = make(a[0], "food", 40)
        answered(c1, 2, Outcome.founded)
        c2 = make(a[0], "food", 70)
        answered(c2, 10, Outcome.unfounded, Status.closed)
        make(a[1], "food", 1)
        make(a[1], "treatment", 3, confidential=True)
        c5 = make(a[1], "treatment", 100)
        answered(c5, 4, status=Status.inadmissible)
        c6 = make(a[0], "visits.visit", 200)
        answered(c6, 6, Outcome.partly_founded, Status.closed)
        c6.first_due_on = local_day(c6.received_at + dt.timedelta(days=6))
        make(b, "food", 0)
        c8 = make(b, "other", 400)  # older than 12 months: counted, but not in the trend
        c8.status = Status.withdrawn
        session().commit()
    return now


def test_every_count_on_the_service(app, seeded, factories) -> None:
    with app.app_context():
        admin = factories.user("central_admin")
        f = services.figures(admin)
        assert f.total == 8
        assert dict(f.by_category) == {"food": 4, "treatment": 2, "visits.visit": 1, "other": 1}
        assert {e.code: n for e, n in f.by_establishment} == {"EST-A": 6, "EST-B": 2}
        assert dict(f.by_status) == {
            "answered": 1,
            "closed": 2,
            "received": 3,
            "inadmissible": 1,
            "withdrawn": 1,
        }
        assert dict(f.by_outcome) == {"founded": 1, "unfounded": 1, "partly_founded": 1}
        assert f.answered == 4  # first answers: 2, 10, 4, 6 days
        assert f.answered_on_time == 3  # 10 days > 5 days late
        assert f.on_time_share == 0.75
        assert f.median_answer_days == pytest.approx(5.0)  # median of 2, 4, 6, 10
        assert len(f.months) == 12
        assert sum(n for _m, n in f.months) == 7  # the 400-day-old one is outside
        this_month = services.local_today().replace(day=1)
        assert f.months[-1][0] == this_month
        # an establishment's complaints officer: EST-A only, the confidential one left out
        officer = factories.user("complaints_officer", ("EST-A",))
        g = services.figures(officer)
        assert g.total == 5
        assert dict(g.by_category) == {"food": 3, "treatment": 1, "visits.visit": 1}
        director = factories.user("director", ("EST-A",))
        assert services.figures(director).total == 6
        session().rollback()


def test_every_count_on_the_page_and_in_the_csv(app, seeded, factories) -> None:
    with app.app_context():
        admin = factories.user("central_admin")
        officer = factories.user("complaints_officer", ("EST-A",))
    c = app.test_client()
    c.post(
        "/login",
        data={"username": admin.username, "password": TEST_PASSWORD},
        headers={"Accept-Language": "en"},
    )
    page = c.get("/complaints/figures?lang=en").get_data(as_text=True)
    assert 'data-testid="total">8<' in page
    assert 'data-testid="answered">4<' in page
    assert 'data-testid="on-time">3 (75%)<' in page
    assert 'data-testid="median">5<' in page
    for code, n in (
        ("food", 4),
        ("treatment", 2),
        ("visits.visit", 1),
        ("other", 1),
        ("EST-A", 6),
        ("EST-B", 2),
        ("received", 3),
        ("closed", 2),
        ("founded", 1),
        ("partly_founded", 1),
        ("unfounded", 1),
    ):
        assert f'data-code="{code}">{n}<' in page, code
    assert 'id="complaints-trend"' in page
    resp = c.get("/complaints/figures.csv?lang=en")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    table = {(r[0], r[1]): r[2] for r in rows[1:]}
    assert table[("Category", "Food")] == "4"
    assert table[("Establishment", "EST-B")] == "2"
    assert table[("Outcome", "Partly founded")] == "1"
    assert table[("Total", "")] == "8" and table[("Answered on time", "")] == "3"
    assert table[("Median answer time (days)", "")] == "5.0"
    months = [k for k in table if k[0] == "Month"]
    assert len(months) == 12 and sum(int(table[m]) for m in months) == 7
    # the CSV is for the central administration; an officer sees the page, not the export
    o = app.test_client()
    o.post("/login", data={"username": officer.username, "password": TEST_PASSWORD})
    assert o.get("/complaints/figures").status_code == 200
    assert o.get("/complaints/figures.csv").status_code == 403
    with app.app_context():
        assert session().query(Complaint).count() == 8


def test_months_and_on_time_follow_local_days_not_utc(app, factories) -> None:
    """The SQL counts use local midnights: a complaint received 10 minutes into the local month
    (still the previous month in UTC when the zone is ahead) is this month's; one answered
    30 minutes into the day after its due date (its due date in UTC) is late."""
    from plugins.complaints.models import Channel
    from plugins.complaints.services.calendar import local_day
    from plugins.complaints.services.figures import local_midnight
    from plugins.complaints.services.filing import record

    with app.app_context():
        det = factories.detainee("EST-A")
        food = {c.code: c for c in all_categories()}["food"]
        first = services.local_today().replace(day=1)
        start = local_midnight(first)
        due = first - dt.timedelta(days=10)

        def make(received, answered=None):
            c = record(
                SYSTEM,
                det,
                author=None,
                category=food,
                channel=Channel.written,
                subject="x",
                body="…",
                received_at=received,
            )
            if answered is not None:
                c.first_answered_at = c.answered_at = answered
                c.first_due_on = due
                c.status = Status.answered
            return c

        make(start + dt.timedelta(minutes=10))  # this local month
        make(start - dt.timedelta(minutes=10))  # the previous local month
        late = local_midnight(due + dt.timedelta(days=1)) + dt.timedelta(minutes=30)
        on_time = local_midnight(due + dt.timedelta(days=1)) - dt.timedelta(minutes=30)
        make(start - dt.timedelta(days=20), late)
        make(start - dt.timedelta(days=20), on_time)
        session().flush()
        assert local_day(late) == due + dt.timedelta(days=1) and local_day(on_time) == due
        f = services.figures(factories.user("central_admin"))
        months = dict(f.months)
        assert months[first] == 1
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        assert months[previous] == 3
        assert f.answered == 2 and f.answered_on_time == 1
        session().rollback()
