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
from sqlalchemy import bindparam, func, or_, select, text

from core.db import session as db_session
from core.detainees import names
from core.detainees.models import Detainee, LegalStatus
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
#: index ranges read by one statement (a long compound name has a dozen keys, so eight of them
#: left out in turn can make hundreds)
MAX_BRANCHES = 200


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


@dataclass
class _Scope:
    """Who may be found: the WHERE conditions on ``Detainee``, and the same as plain values for
    the candidate SQL (each list of establishment ids is one ``IN``)."""

    conditions: list[Any]
    establishments: list[list[int]]
    include_released: bool


def _filters(user: Principal, establishment: str | None, include_released: bool) -> _Scope | None:
    """The WHERE conditions on ``Detainee`` for this user and search; ``None``: nothing visible."""
    scope = _Scope([], [], include_released)
    ids = establishment_ids(user)
    if ids is not None:
        if not ids:
            return None
        scope.conditions.append(Detainee.establishment_id.in_(sorted(ids)))
        scope.establishments.append(sorted(ids))
    if establishment:
        est = get_by_code(establishment, user)
        scope.conditions.append(Detainee.establishment_id == est.id)
        scope.establishments.append([est.id])
    if not include_released:
        scope.conditions.append(Detainee.legal_status != LegalStatus.released)
    return scope


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


class _Sql:
    """The candidate SQL, written as text (the same for SQLite and PostgreSQL): building it as
    SQLAlchemy constructs, a dozen aliased branches, cost more than running it."""

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self.params: dict[str, Any] = {}
        self.expanding: list[str] = []

    def bind(self, value: Any) -> str:
        name = f"p{len(self.params)}"
        self.params[name] = value
        if isinstance(value, list):
            self.expanding.append(name)
        return ":" + name

    def rows(self, key_sql: str, others: list[dict[str, int]]) -> str:
        """``FROM … WHERE``: name-key rows ``k`` matching ``key_sql``, every other word (an
        ``EXISTS`` probe on the primary key ``(detainee_id, key)``) and the user's scope."""
        sql = "FROM core_detainee_name_keys k"
        where = [key_sql]
        for other in others:
            where.append(
                "EXISTS (SELECT 1 FROM core_detainee_name_keys o WHERE "
                f"o.detainee_id = k.detainee_id AND o.key IN {self.bind(sorted(other))})"
            )
        # the keys carry their detainee's establishment: a scoped search reads the index range
        # (key, establishment) in id order, its own postings only
        for ids in self.scope.establishments:
            where.append(f"k.establishment_id IN {self.bind(ids)}")
        if not self.scope.include_released:
            sql += " JOIN core_detainees d ON d.id = k.detainee_id"
            where.append(f"d.legal_status <> {self.bind(LegalStatus.released.value)}")
        return sql + " WHERE " + " AND ".join(where)

    def statement(self, sql: str) -> Any:
        return text(sql).bindparams(*[bindparam(name, expanding=True) for name in self.expanding])

    def execute(self, sql: str) -> list[Any]:
        return list(db_session().execute(self.statement(sql), self.params).all())


def _ranked(sql: _Sql, branch: tuple[int, str, int, list[dict[str, int]]], limit: int) -> str:
    """A SELECT of the first ``limit`` detainees (by id) holding one driving key, with its
    weight: the branches of all driving keys together hold the best ``limit`` by (best weight,
    id), each read in order from the index ``(key, detainee_id)``, never the whole posting list
    of a common name."""
    tag, key, weight, others = branch
    rows = sql.rows(f"k.key = {sql.bind(key)}", others)
    return (
        f"SELECT * FROM (SELECT k.detainee_id AS detainee_id, {int(tag)} AS tag, "
        f"{int(weight)} AS weight {rows} ORDER BY k.detainee_id LIMIT {int(limit)}) "
        f"AS b{len(sql.params)}"
    )


def _count(scope: _Scope, drive: dict[str, int], others: list[dict[str, int]]) -> int:
    """How many detainees match, counted up to :data:`MAX_CANDIDATES`: the distinct ones among
    the first index rows of the driving keys (all keys in one range; for a search scoped to
    some establishments, each key's postings in those establishments, in id order)."""
    sql = _Sql(scope)
    if not scope.conditions:
        rows = sql.rows(f"k.key IN {sql.bind(sorted(drive))}", others)
        inner = f"SELECT k.detainee_id {rows} LIMIT {MAX_CANDIDATES}"
    else:
        inner = " UNION ALL ".join(
            f"SELECT * FROM (SELECT k.detainee_id {sql.rows(f'k.key = {sql.bind(key)}', others)} "
            f"ORDER BY k.detainee_id LIMIT {MAX_CANDIDATES}) AS b{len(sql.params)}"
            for key in sorted(drive)
        )
    found = sql.execute(f"SELECT count(DISTINCT c.detainee_id) FROM ({inner}) AS c")
    return min(MAX_CANDIDATES, int(found[0][0])) if found else 0


@dataclass
class _Found:
    ids: list[int]
    total: int


def _candidates(groups: list[list[dict[str, int]]], scope: _Scope, limit: int) -> _Found:
    """The detainees matching every word of each group, group after group, best key weights
    first, then by id; every group in one statement (UNION ALL). ``limit``: how many are needed
    in order; when a group has more, they are counted (up to :data:`MAX_CANDIDATES`)."""
    plans = [_group(words) for words in groups]
    branches = [
        (tag, key, weight, others)
        for tag, (drive, others) in enumerate(plans)
        for key, weight in sorted(drive.items())
    ]
    best: list[dict[int, int]] = [{} for _ in groups]
    for start in range(0, len(branches), MAX_BRANCHES):  # SQLite allows 500 SELECTs in a UNION
        sql = _Sql(scope)
        parts = [_ranked(sql, branch, limit) for branch in branches[start : start + MAX_BRANCHES]]
        for det_id, tag, weight in sql.execute(" UNION ALL ".join(parts)):
            if weight > best[tag].get(det_id, 0):
                best[tag][det_id] = weight
    ids: list[int] = []
    seen: set[int] = set()
    extra = 0
    for tag, (drive, others) in enumerate(plans):
        ranked = sorted(best[tag], key=lambda det_id, b=best[tag]: (-b[det_id], det_id))
        if len(ranked) >= limit:  # more than needed in order: count the rest
            extra += max(0, _count(scope, drive, others) - len(ranked))
        ids += [det_id for det_id in ranked if det_id not in seen]
        seen.update(ranked)
    return _Found(ids, len(ids) + extra)


def _find(word_keys: list[dict[str, int]], scope: _Scope, limit: int) -> _Found:
    """Detainees matching every word; when nobody does, those matching all words but one
    (each word left out in turn, the rarest words kept first), in one more statement."""
    found = _candidates([word_keys], scope, limit)
    if found.ids or len(word_keys) < 2:
        return found
    order = sorted(range(len(word_keys)), key=lambda i: _selectivity(word_keys[i]))
    groups = [[keys for i, keys in enumerate(word_keys) if i != out] for out in order]
    return _candidates(groups, scope, limit)


def _names_of(ids: list[int]) -> list[Any]:
    """The names of these detainees, to rank them (on PostgreSQL one array parameter, not
    hundreds of bound values to render)."""
    sess = db_session()
    sql = "SELECT id, first_name, last_name, first_name_ar, last_name_ar FROM core_detainees "
    if sess.get_bind().dialect.name == "postgresql":
        stmt = text(sql + "WHERE id = ANY(:ids)")
    else:
        stmt = text(sql + "WHERE id IN :ids").bindparams(bindparam("ids", expanding=True))
    return list(sess.execute(stmt, {"ids": ids}).all())


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
    scope = _filters(user, establishment, include_released)
    if scope is None:
        return SearchPage([], 0, page, per_page)
    conditions = scope.conditions
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
        found = _find(word_keys, scope, limit)
        uncounted = found.total - len(found.ids)
        head, tail = found.ids[:RANK_LIMIT], found.ids[RANK_LIMIT:]
        if head:
            position = {det_id: i for i, det_id in enumerate(head)}
            rows = _names_of(head)
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
