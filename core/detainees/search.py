"""Detainee search: registration number, national id, or name in either script.

Names are matched through the indexed ``core_detainee_name_keys`` table (see
:mod:`core.detainees.names`): the rarest word of the query drives an index range and every
other word is an ``EXISTS`` probe, so only detainees matching every word come back (when
nobody does, the same with each word left out in turn); the best of them are
then ranked in Python by spelling closeness (:func:`names.similarity`), so that the
right person comes first among the many who share a first or family name.

The work per query is bounded (issue 10 point 11: a hundred one-letter words took 5.8 s and
stalled every other request on SQLite): a query longer than :data:`MAX_QUERY_LENGTH`
characters or of more than :data:`MAX_QUERY_WORDS` words is refused with 422
``query_too_long`` on the field ``q`` (it is not silently cut: the answer would be wrong);
repeated words count once; and at most :data:`MAX_CANDIDATES` index rows are read per probe.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import aliased

from core.db import session as db_session
from core.detainees import names
from core.detainees.models import Detainee, DetaineeNameKey, LegalStatus
from core.errors import ValidationFailed
from core.establishments.services import get_by_code
from core.identity.services import require
from core.principals import Principal
from core.scoping import establishment_ids
from core.validation import ascii_digits, storable

MAX_PER_PAGE = 100
#: candidates ranked by spelling (the others, if any, follow in key order)
RANK_LIMIT = 300
#: exact identifier matches shown first
IDENT_LIMIT = 50
#: the longest query searched (characters, spaces included once between words)
MAX_QUERY_LENGTH = 120
#: the most words a query may hold (a full name in both scripts has far fewer)
MAX_QUERY_WORDS = 8
#: index rows read for the driving word of one probe: a word shared by more people than this
#: ranks only the first of them (refine the query)
MAX_CANDIDATES = 5000


def check_query(q: str) -> str:
    """``q`` with its spaces tidied; 422 ``query_too_long`` on ``q`` past the caps, and 422
    on ``q`` for a NUL character (PostgreSQL cannot compare it)."""
    text = " ".join((q or "").split())
    if not storable(text):
        message = _("This value contains characters that cannot be searched.")
        raise ValidationFailed(message, fields={"q": message})
    if len(text) > MAX_QUERY_LENGTH or len(text.split()) > MAX_QUERY_WORDS:
        message = _(
            "Search with at most %(words)s and %(chars)s.",
            words=ngettext("%(num)d word", "%(num)d words", MAX_QUERY_WORDS),
            chars=ngettext("%(num)d character", "%(num)d characters", MAX_QUERY_LENGTH),
        )
        raise ValidationFailed(message, code="query_too_long", fields={"q": message})
    return text


@dataclass(frozen=True)
class SearchPage:
    items: list[Detainee]
    total: int
    page: int
    per_page: int


def _filters(
    user: Principal, establishment: str | None, include_released: bool
) -> list[Any] | None:
    """The WHERE conditions on ``Detainee`` for this user and search; ``None``: nothing visible."""
    conditions: list[Any] = []
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


def _distinct(word_keys: list[dict[str, int]]) -> list[dict[str, int]]:
    """The words' key sets without repeats ("a a a" is one word to find, not three)."""
    out: list[dict[str, int]] = []
    for keys in word_keys:
        if keys not in out:
            out.append(keys)
    return out


def _selectivity(keys: dict[str, int]) -> int:
    """A cheap guess of how rare a word is: the length of its longest full skeleton."""
    return max((len(k) for k, w in keys.items() if w == names.WEIGHT_FULL), default=0)


def _all_words(word_keys: list[dict[str, int]], conditions: list[Any]) -> list[int]:
    """Detainees matching every word, best key weight of the rarest word first.

    The rarest word drives (one index range over its keys), each other word is an ``EXISTS``
    probe on the primary key ``(detainee_id, key)``: no grouping of long posting lists.
    """
    order = sorted(range(len(word_keys)), key=lambda i: -_selectivity(word_keys[i]))
    drive, others = word_keys[order[0]], [word_keys[i] for i in order[1:]]
    k1 = aliased(DetaineeNameKey)
    stmt = select(k1.detainee_id, k1.key).where(k1.key.in_(sorted(drive))).limit(MAX_CANDIDATES)
    for other in others:
        k2 = aliased(DetaineeNameKey)
        stmt = stmt.where(
            exists().where(k2.detainee_id == k1.detainee_id, k2.key.in_(sorted(other)))
        )
    if conditions:
        stmt = stmt.join(Detainee, Detainee.id == k1.detainee_id).where(*conditions)
    best: dict[int, int] = {}
    for det_id, key in db_session().execute(stmt):
        weight = drive.get(key, 0)
        if weight > best.get(det_id, 0):
            best[det_id] = weight
    return sorted(best, key=lambda det_id: (-best[det_id], det_id))


def _most_words(word_keys: list[dict[str, int]], conditions: list[Any]) -> list[int]:
    """Detainees matching all words but one (the fallback when nobody matches them all):
    the same probes with each word left out in turn, the rarest words kept first."""
    order = sorted(range(len(word_keys)), key=lambda i: _selectivity(word_keys[i]))
    found: list[int] = []
    seen: set[int] = set()
    for left_out in order:
        rest = [keys for i, keys in enumerate(word_keys) if i != left_out]
        for det_id in _all_words(rest, conditions):
            if det_id not in seen:
                seen.add(det_id)
                found.append(det_id)
    return found


def search(
    user: Principal,
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
    A query past :data:`MAX_QUERY_LENGTH` / :data:`MAX_QUERY_WORDS` raises
    ``ValidationFailed`` (``query_too_long``, field ``q``).
    """
    require(user, "detainees.view")
    q = check_query(ascii_digits(q or ""))
    page = max(1, int(page))
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    offset = (page - 1) * per_page
    conditions = _filters(user, establishment, include_released)
    if conditions is None:
        return SearchPage([], 0, page, per_page)
    sess = db_session()

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
    word_keys = _distinct(names.weighted_query_keys(q))
    if word_keys and not (exact_ids and any(ch.isdigit() for ch in q)):
        found = _all_words(word_keys, conditions)
        if not found and len(word_keys) > 1:
            found = _most_words(word_keys, conditions)
        head, tail = found[:RANK_LIMIT], found[RANK_LIMIT:]
        if head:
            position = {det_id: i for i, det_id in enumerate(head)}
            rows = sess.execute(
                select(
                    Detainee.id,
                    Detainee.first_name,
                    Detainee.last_name,
                    Detainee.first_name_ar,
                    Detainee.last_name_ar,
                ).where(Detainee.id.in_(head))
            ).all()
            scored = [
                (
                    names.similarity(
                        q,
                        f"{row.first_name} {row.last_name}",
                        f"{row.first_name_ar} {row.last_name_ar}".strip(),
                    ),
                    row.id,
                )
                for row in rows
            ]
            scored.sort(key=lambda pair: (-pair[0], position[pair[1]]))
            ranked = [i for _, i in scored] + tail

    seen = set(exact_ids)
    ordered = exact_ids + [i for i in ranked if i not in seen]
    page_ids = ordered[offset : offset + per_page]
    by_id = (
        {d.id: d for d in sess.scalars(select(Detainee).where(Detainee.id.in_(page_ids)))}
        if page_ids
        else {}
    )
    return SearchPage([by_id[i] for i in page_ids if i in by_id], len(ordered), page, per_page)
