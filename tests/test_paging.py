"""core.paging.fetch_page: the right rows and total, and a COUNT only when the page cannot
tell the total."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.db import session
from core.establishments.models import Establishment
from core.paging import fetch_page
from core.testing import sql_statements


@pytest.fixture
def seven(app: Any, factories: Any) -> Any:
    with app.app_context():
        for i in range(7):
            factories.establishment(f"PG-{i}")
        yield select(Establishment).where(Establishment.code.like("PG-%"))


ORDER = (Establishment.code,)


def _page(app: Any, base: Any, page: int, per_page: int) -> tuple[list[str], int, int]:
    (rows, total), seen = sql_statements(
        app, lambda: fetch_page(session(), base, ORDER, page, per_page)
    )
    counts = sum(1 for s in seen if "count(" in s.lower())
    return [e.code for e in rows], total, counts


@pytest.mark.parametrize(
    ("page", "per_page", "codes", "total", "counted"),
    [
        (1, 10, [f"PG-{i}" for i in range(7)], 7, 0),  # one page, not full: no COUNT
        (1, 3, ["PG-0", "PG-1", "PG-2"], 7, 1),  # a full page: counted
        (2, 3, ["PG-3", "PG-4", "PG-5"], 7, 1),
        (3, 3, ["PG-6"], 7, 0),  # the last page, not full: the total is known
        (4, 3, [], 7, 1),  # past the end: counted, the total still right
        (1, 7, [f"PG-{i}" for i in range(7)], 7, 1),  # exactly full: counted
        (0, 3, ["PG-0", "PG-1", "PG-2"], 7, 1),  # a page below 1 is the first
    ],
)
def test_pages_and_totals(
    app: Any, seven: Any, page: int, per_page: int, codes: list[str], total: int, counted: int
) -> None:
    with app.app_context():
        assert _page(app, seven, page, per_page) == (codes, total, counted)


def test_nothing_at_all_is_one_statement(app: Any) -> None:
    with app.app_context():
        base = select(Establishment).where(Establishment.code == "NOPE")
        assert _page(app, base, 1, 20) == ([], 0, 0)
