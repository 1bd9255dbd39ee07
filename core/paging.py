"""Paging in SQL: one page of rows and the total, without counting when the page tells it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def fetch_page(
    sess: Session, base: Select[Any], order_by: Sequence[Any], page: int, per_page: int
) -> tuple[list[Any], int]:
    """The ``page``-th page (from 1) of ``base`` in ``order_by`` order, and how many rows
    ``base`` has in all.

    The page is read first; the total is counted in SQL only when the page cannot tell it:
    a page that is neither full nor empty is the last one (total = rows before it + its own),
    and an empty first page means none at all. A profile panel or a short list thus costs one
    statement instead of two.
    """
    offset = (max(page, 1) - 1) * per_page
    # unique(): one object per row even when ``base`` eagerly joins a collection
    rows = list(sess.scalars(base.order_by(*order_by).offset(offset).limit(per_page)).unique())
    if 0 < len(rows) < per_page or (offset == 0 and not rows):
        return rows, offset + len(rows)
    total = sess.scalar(select(func.count()).select_from(base.subquery())) or 0
    return rows, int(total)
