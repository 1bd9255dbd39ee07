"""Detainee search: registration number, national id, or name in either script.

Names are matched through the indexed ``core_detainee_name_keys`` table (see
:mod:`core.detainees.names`): one SQL query groups the keys of the query's words by detainee
and keeps those matching every word (or, when nobody does, all but one word); the best of
them are then ranked in Python by spelling closeness (:func:`names.similarity`), so that the
right person comes first among the many who share a first or family name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, func, literal, or_, select, union_all

from core.db import session as db_session
from core.detainees import names
from core.detainees.models import Detainee, DetaineeNameKey, LegalStatus
from core.establishments.services import get_by_code
from core.identity.models import User
from core.identity.services import require
from core.scoping import establishment_ids

MAX_PER_PAGE = 100
#: candidates ranked by spelling (the others, if any, follow in key order)
RANK_LIMIT = 600
#: exact identifier matches shown first
IDENT_LIMIT = 50


@dataclass(frozen=True)
class SearchPage:
    items: list[Detainee]
    total: int
    page: int
    per_page: int


def _filters(
    user: User | None, establishment: str | None, include_released: bool
) -> list[Any] | None:
    """The WHERE conditions on ``Detainee`` for this user and search; ``None``: nothing visible."""
    conditions: list[Any] = []
    if user is not None:
        ids = establishment_ids(user)
        if ids is not None:
            if not ids:
                return None
            conditions.append(Detainee.establishment_id.in_(sorted(ids)))
    if establishment:
        est = get_by_code(establishment, user)
        conditions.append(Detainee.establishment_id == est.id)
    if not include_released:
        conditions.append(Detainee.legal_status != LegalStatus.released)
    return conditions


def _name_candidates(
    word_keys: list[dict[str, int]], conditions: list[Any], need: int
) -> list[tuple[int, int]]:
    """``(detainee_id, key score)`` of the detainees matching at least ``need`` words."""
    k = DetaineeNameKey
    parts = []
    for i, keys in enumerate(word_keys):
        by_weight: dict[int, list[str]] = {}
        for key, weight in keys.items():
            by_weight.setdefault(weight, []).append(key)
        for weight, group in sorted(by_weight.items()):
            parts.append(
                select(
                    k.detainee_id.label("d"),
                    literal(i, Integer).label("t"),
                    literal(weight, Integer).label("w"),
                ).where(k.key.in_(sorted(group)))
            )
    hits = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    per_word = (
        select(hits.c.d, hits.c.t, func.max(hits.c.w).label("w"))
        .group_by(hits.c.d, hits.c.t)
        .subquery()
    )
    stmt = select(per_word.c.d, func.sum(per_word.c.w).label("s"))
    if conditions:
        stmt = stmt.join(Detainee, Detainee.id == per_word.c.d).where(*conditions)
    stmt = stmt.group_by(per_word.c.d).having(func.count() >= need)
    return [(int(d), int(s)) for d, s in db_session().execute(stmt)]


def search(
    user: User | None,
    q: str = "",
    *,
    establishment: str | None = None,
    page: int = 1,
    per_page: int = 20,
    include_released: bool = True,
) -> SearchPage:
    """Find detainees by registration number, national id or name in either script.

    Best match first: exact identifiers, then the people whose names match every word of the
    query (or all but one, when nobody matches them all), ranked by spelling closeness.
    ``per_page`` is at most 100. Scoped: a user sees only their establishments' detainees.
    """
    if user is not None:
        require(user, "detainees.view")
    page = max(1, int(page))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    offset = (page - 1) * per_page
    conditions = _filters(user, establishment, include_released)
    if conditions is None:
        return SearchPage([], 0, page, per_page)
    sess = db_session()
    q = " ".join((q or "").split())[:200]

    if not q:
        base = select(Detainee).where(*conditions)
        total = sess.scalar(select(func.count()).select_from(base.subquery())) or 0
        items = list(
            sess.scalars(
                base.order_by(Detainee.admitted_at.desc(), Detainee.id.desc())
                .offset(offset)
                .limit(per_page)
            )
        )
        return SearchPage(items, total, page, per_page)

    ident = q.upper().replace(" ", "")
    exact_ids = list(
        sess.scalars(
            select(Detainee.id)
            .where(
                or_(Detainee.registration_number == ident, Detainee.national_id == ident),
                *conditions,
            )
            .order_by(Detainee.admitted_at.desc())
            .limit(IDENT_LIMIT)
        )
    )

    ranked: list[int] = []
    word_keys = names.weighted_query_keys(q)
    if word_keys:
        need = len(word_keys)
        found = _name_candidates(word_keys, conditions, need)
        if not found and need > 1:
            found = _name_candidates(word_keys, conditions, need - 1)
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        head, tail = found[:RANK_LIMIT], found[RANK_LIMIT:]
        if head:
            key_score = dict(head)
            top = max(key_score.values())
            rows = sess.execute(
                select(
                    Detainee.id,
                    Detainee.first_name,
                    Detainee.last_name,
                    Detainee.first_name_ar,
                    Detainee.last_name_ar,
                ).where(Detainee.id.in_(list(key_score)))
            ).all()
            scored = []
            for row in rows:
                sim = names.similarity(
                    q,
                    f"{row.first_name} {row.last_name}",
                    f"{row.first_name_ar} {row.last_name_ar}".strip(),
                )
                scored.append((sim + 0.05 * key_score[row.id] / top, row.id))
            scored.sort(key=lambda pair: (-pair[0], pair[1]))
            ranked = [i for _, i in scored] + [i for i, _ in tail]

    seen = set(exact_ids)
    ordered = exact_ids + [i for i in ranked if i not in seen]
    page_ids = ordered[offset : offset + per_page]
    by_id = (
        {d.id: d for d in sess.scalars(select(Detainee).where(Detainee.id.in_(page_ids)))}
        if page_ids
        else {}
    )
    return SearchPage([by_id[i] for i in page_ids if i in by_id], len(ordered), page, per_page)
