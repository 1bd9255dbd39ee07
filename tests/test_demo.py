"""The demo as ``make run`` shows it: establishments filled to a real-looking occupancy (the
bulk-loaded population), and the demo logins printed on every start."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import func, select

from core import demo
from core.cli import cli
from core.db import session, utcnow
from core.demo_population import fill_to_occupancy
from core.detainees.models import Detainee
from core.detainees.search import search
from core.principals import SYSTEM


def _held(est: Any) -> int:
    return session().scalar(
        select(func.count())
        .select_from(Detainee)
        .where(Detainee.establishment_id == est.id, Detainee.released_at.is_(None))
    )


def test_population_fills_each_establishment_to_its_occupancy(app: Any, factories: Any) -> None:
    with app.app_context():
        big = factories.establishment("POP-A", capacity=40)
        small = factories.establishment("POP-B", capacity=25)
        minors = factories.establishment("POP-C", capacity=20, kind="reform_centre")
        factories.detainee("POP-A")
        before = factories.detainee("POP-A").registration_number
        added = fill_to_occupancy([big, small, minors], random.Random(7), demo._person_at)
        session().flush()
        for est in (big, small, minors):
            assert 0.9 * est.capacity <= _held(est) <= 1.4 * est.capacity + 1, est.code
        assert added == sum(_held(e) for e in (big, small, minors)) - 2
        # registration numbers were reserved: the next admission takes a fresh one
        after = factories.detainee("POP-B").registration_number
        numbers = session().scalars(select(Detainee.registration_number)).all()
        assert len(numbers) == len(set(numbers)) and after > before
        # minors' centres hold minors; everyone is searchable like an admitted detainee
        today = utcnow().date()
        ages = (
            session()
            .scalars(select(Detainee.birth_date).where(Detainee.establishment_id == minors.id))
            .all()
        )
        assert all(today - born < dt.timedelta(days=19 * 365) for born in ages)
        someone = session().scalar(
            select(Detainee).where(Detainee.establishment_id == small.id).limit(1)
        )
        found = search(SYSTEM, f"{someone.first_name} {someone.last_name}", establishment="POP-B")
        assert someone.id in [d.id for d in found.items]


def test_the_demo_logins_are_printed_on_every_start(app: Any, factories: Any) -> None:
    with app.app_context():
        factories.user("central_admin", (), username="admin", password=demo.DEMO_PASSWORD)
        factories.user("registry_clerk", ("EST-A",), username="clerk", password=demo.DEMO_PASSWORD)
        factories.user("registry_clerk", ("EST-A",), username="someone.real")
    result = app.test_cli_runner().invoke(cli, ["demo", "seed", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "demo seed skipped" in result.output
    lines = result.output.splitlines()
    assert any(line.split()[:2] == ["admin", demo.DEMO_PASSWORD] for line in lines)
    assert any(
        line.split()[:2] == ["clerk", demo.DEMO_PASSWORD] and "EST-A" in line for line in lines
    )
    assert "someone.real" not in result.output  # not a demo password: never printed
