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
from sqlalchemy import exists, func, literal_column, or_, select, union_all
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


def _scoped(stmt: Any, det_id: Any, conditions: list[Any]) -> Any:
    if conditions:
        stmt = stmt.join(Detainee, Detainee.id == det_id).where(*conditions)
    return stmt


def _drive_keys(words: list[dict[str, int]]) -> dict[str, int]:
    """The keys whose index ranges hold exactly the detainees matching the driving words, each
    with its weight: one word's own keys; for two words their pair keys
    (:func:`names.pair_key`, the two keys' weights added), or a key both words share."""
    if len(words) == 1:
        return dict(words[0])
    a, b = words
    drive: dict[str, int] = {}
    for ka, wa in a.items():
        for kb, wb in b.items():
            key = names.pair_key(ka, kb) or ka
            drive[key] = max(drive.get(key, 0), wa + wb)
    return drive


def _group(words: list[dict[str, int]]) -> tuple[dict[str, int], list[dict[str, int]]]:
    """The driving keys of a group of words (the two rarest words') and the other words."""
    order = sorted(range(len(words)), key=lambda i: -_selectivity(words[i]))
    driving = [words[i] for i in order[:2]]
    return _drive_keys(driving), [words[i] for i in order[2:]]


def _matching(k: Any, others: list[dict[str, int]], conditions: list[Any]) -> Any:
    """``k``'s rows also matching every other word (``EXISTS`` on the primary key) and the
    user's scope."""
    stmt = select(k.detainee_id)
    for other in others:
        k2 = aliased(DetaineeNameKey)
        stmt = stmt.where(
            exists().where(k2.detainee_id == k.detainee_id, k2.key.in_(sorted(other)))
        )
    return _scoped(stmt, k.detainee_id, conditions)


def _ranked(
    tag: int, drive: dict[str, int], others: list[dict[str, int]], conditions: list[Any], limit: int
) -> list[Any]:
    """SELECTs of the first ``limit`` detainees (by id) holding each driving key, with its
    weight: together they hold the best ``limit`` by (best weight, id), each read in order from
    the index ``(key, detainee_id)``, never the whole posting list of a common name."""
    out = []
    for key, weight in sorted(drive.items()):
        k = aliased(DetaineeNameKey)
        stmt = (
            _matching(k, others, conditions)
            .add_columns(
                literal_column(str(tag)).label("tag"), literal_column(str(weight)).label("weight")
            )
            .where(k.key == key)
            .order_by(k.detainee_id)
            .limit(limit)
        )
        out.append(stmt.subquery().select())
    return out


def _count(drive: dict[str, int], others: list[dict[str, int]], conditions: list[Any]) -> int:
    """The detainees among the first :data:`MAX_CANDIDATES` index rows of the driving keys."""
    k = aliased(DetaineeNameKey)
    rows = _matching(k, others, conditions).where(k.key.in_(sorted(drive)))
    sub = rows.limit(MAX_CANDIDATES).subquery()
    return db_session().scalar(select(func.count(func.distinct(sub.c.detainee_id)))) or 0


@dataclass
class _Found:
    ids: list[int]
    total: int


def _candidates(groups: list[list[dict[str, int]]], conditions: list[Any], limit: int) -> _Found:
    """The detainees matching every word of each group, group after group, best key weights
    first, then by id; every group in one statement (UNION ALL). ``limit``: how many are needed
    in order; when a group has more, they are counted (up to :data:`MAX_CANDIDATES`)."""
    plans = [_group(words) for words in groups]
    parts: list[Any] = []
    for tag, (drive, others) in enumerate(plans):
        parts += _ranked(tag, drive, others, conditions, limit)
    stmt = parts[0] if len(parts) == 1 else union_all(*parts)
    best: list[dict[int, int]] = [{} for _ in groups]
    for det_id, tag, weight in db_session().execute(stmt):
        if weight > best[tag].get(det_id, 0):
            best[tag][det_id] = weight
    ids: list[int] = []
    seen: set[int] = set()
    extra = 0
    for tag, (drive, others) in enumerate(plans):
        ranked = sorted(best[tag], key=lambda det_id, b=best[tag]: (-b[det_id], det_id))
        if len(ranked) >= limit:  # more than needed in order: count the rest
            extra += max(0, _count(drive, others, conditions) - len(ranked))
        ids += [det_id for det_id in ranked if det_id not in seen]
        seen.update(ranked)
    return _Found(ids, len(ids) + extra)


def _find(word_keys: list[dict[str, int]], conditions: list[Any], limit: int) -> _Found:
    """Detainees matching every word; when nobody does, those matching all words but one
    (each word left out in turn, the rarest words kept first), in one more statement."""
    found = _candidates([word_keys], conditions, limit)
    if found.ids or len(word_keys) < 2:
        return found
    order = sorted(range(len(word_keys)), key=lambda i: _selectivity(word_keys[i]))
    groups = [[keys for i, keys in enumerate(word_keys) if i != out] for out in order]
    return _candidates(groups, conditions, limit)


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
    uncounted = 0  # matches past those read in order (a common name alone)
    word_keys = _distinct(names.weighted_query_keys(q))
    if word_keys and not (exact_ids and any(ch.isdigit() for ch in q)):
        limit = min(MAX_CANDIDATES, max(RANK_LIMIT, offset + per_page))
        found = _find(word_keys, conditions, limit)
        uncounted = found.total - len(found.ids)
        head, tail = found.ids[:RANK_LIMIT], found.ids[RANK_LIMIT:]
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
    total = len(ordered) + uncounted
    return SearchPage([by_id[i] for i in page_ids if i in by_id], total, page, per_page)
