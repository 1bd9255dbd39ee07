"""The core benchmark: seed N detainees fast, then measure search and profile-page latency.

    python -m bench.run [--detainees 100000] [--backend sqlite|postgresql|both] [--queries 200]

For each backend it builds a migrated app on a temporary database (a SQLite file, or a new
PostgreSQL database on ``IDMAJ_TEST_DATABASE_URL`` dropped afterwards), seeds the
establishments and users through the services and the detainees through bulk SQLAlchemy Core
inserts (detainees, placements, name keys computed with :mod:`core.detainees.names`), then
times ``search`` through the service and through the HTTP test client (API and page), and the
profile page ``/detainees/<rn>``, signed in. The figures are written to docs/performance.md.

Goals: seeding 100k < 2 min; search p95 < 100 ms; profile page p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.engine import make_url

from core.principals import SYSTEM

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "performance.md"
MODULES_HEADING = "## Modules"
#: sections written by hand, kept when the report is rewritten (from the first found)
KEPT_HEADINGS = ("## Search at 1,000,000 detainees", MODULES_HEADING)
PASSWORD = "bench-password-123"
GOALS = {"seed": 120.0, "search": 100.0, "profile": 50.0}

# more family names than the demo's, so that 100,000 people are not 400 name pairs
EXTRA_LAST_NAMES = [
    (("Tahiri", "Ettahiri"), "الطاهري"),
    (("Bouzidi", "El Bouzidi"), "البوزيدي"),
    (("Sebti", "Essebti"), "السبتي"),
    (("Lahlou", "Lahlu"), "لحلو"),
    (("Guessous", "Gassous"), "كسوس"),
    (("Benkirane", "Ben Kirane"), "بنكيران"),
    (("Amrani", "El Amrani"), "العمراني"),
    (("Squalli", "Sqalli"), "السقلي"),
    (("Ouali", "El Ouali"), "الوالي"),
    (("Zerouali", "Zeroual"), "الزروالي"),
    (("Haddad", "El Haddad"), "الحداد"),
    (("Benali", "Ben Ali"), "بنعلي"),
    (("Bensaid", "Ben Said"), "بنسعيد"),
    (("Ait Ahmed", "Aït Ahmed"), "أيت أحمد"),
    (("Ouchen", "Ouchan"), "أوشن"),
    (("Berrechid", "Berrchid"), "برشيد"),
    (("Chami", "Echchami"), "الشامي"),
    (("Skali", "Squali"), "السكالي"),
    (("Khalfi", "El Khalfi"), "الخلفي"),
    (("Ghazali", "El Ghazali"), "الغزالي"),
    (("Jabri", "El Jabri"), "الجابري"),
    (("Daoudi", "Dawdi"), "الداودي"),
    (("Filali", "El Filali"), "الفيلالي"),
    (("Marrakchi", "El Marrakchi"), "المراكشي"),
    (("Soussi", "Essoussi"), "السوسي"),
    (("Touati", "Et-Touati"), "التواتي"),
    (("Hamdaoui", "Hamdawi"), "الحمداوي"),
    (("Karimi", "El Karimi"), "الكريمي"),
    (("Yacoubi", "Yaacoubi"), "اليعقوبي"),
    (("Rahmouni", "Rahmoni"), "الرحموني"),
    (("Qadiri", "Kadiri"), "القادري"),
    (("Othmani", "El Otmani"), "العثماني"),
    (("Cherkaoui", "Charkaoui"), "الشرقاوي"),
    (("Bouchta", "Bouchtat"), "بوشتى"),
    (("Moussaoui", "Mousaoui"), "الموساوي"),
    (("Benabdallah", "Ben Abdellah"), "بنعبد الله"),
    (("Sbai", "Essbai"), "السباعي"),
    (("Slaoui", "Sellaoui"), "السلاوي"),
    (("Tazi", "Et-Tazi"), "التازي"),
    (("Nejjar", "Najjar"), "النجار"),
]
EXTRA_FIRST_NAMES = [
    (("Driss", "Idriss"), "إدريس", "M"),
    (("Brahim", "Ibrahim"), "إبراهيم", "M"),
    (("Abderrahim", "Abdul Rahim"), "عبد الرحيم", "M"),
    (("Lahcen", "Lahsen"), "لحسن", "M"),
    (("Hassan", "Hasan"), "حسن", "M"),
    (("Mehdi", "Mahdi"), "مهدي", "M"),
    (("Yassine", "Yasin"), "ياسين", "M"),
    (("Anas", "Anass"), "أنس", "M"),
    (("Soufiane", "Sofian"), "سفيان", "M"),
    (("Zakaria", "Zakariya"), "زكرياء", "M"),
    (("Ilyas", "Elias"), "إلياس", "M"),
    (("Tarik", "Tariq"), "طارق", "M"),
    (("Hanane", "Hanan"), "حنان", "F"),
    (("Samira", "Sameera"), "سميرة", "F"),
    (("Latifa", "Lateefa"), "لطيفة", "F"),
    (("Salma", "Selma"), "سلمى", "F"),
    (("Houda", "Huda"), "هدى", "F"),
    (("Nadia", "Nadya"), "نادية", "F"),
]


# --------------------------------------------------------------------------------------------
# databases
# --------------------------------------------------------------------------------------------


@contextmanager
def temporary_database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    admin_url = make_url(
        os.environ.get(
            "IDMAJ_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        )
    )
    name = f"idmaj_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


# --------------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------------


@dataclass
class Person:
    rn: str
    first: str
    last: str
    first_ar: str
    last_ar: str
    national_id: str
    establishment: str
    first_spellings: tuple[str, ...]
    last_spellings: tuple[str, ...]


@dataclass
class Seeded:
    people: list[Person]
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)


def _name_pools() -> tuple[list[Any], list[Any]]:
    from core.demo import FIRST_NAMES, LAST_NAMES

    return list(FIRST_NAMES) + EXTRA_FIRST_NAMES, list(LAST_NAMES) + EXTRA_LAST_NAMES


def seed(app: Any, count: int, rng: random.Random, log: Callable[[str], None]) -> Seeded:
    """Establishments and users through the services; detainees by bulk Core inserts."""
    from core.db import session
    from core.demo import ESTABLISHMENTS
    from core.detainees import names
    from core.detainees.models import Counter, Detainee, DetaineeNameKey, Placement
    from core.establishments.models import Establishment
    from core.establishments.services import create_establishment
    from core.identity.services import create_user

    started = time.perf_counter()
    with app.app_context():
        sess = session()
        for code, name, name_ar, kind, region, city, capacity in ESTABLISHMENTS:
            create_establishment(
                code=code,
                name=name,
                name_ar=name_ar,
                kind=kind,
                capacity=capacity,
                region=region,
                city=city,
                actor=SYSTEM,
            )
        for i in range(len(ESTABLISHMENTS), 76):  # about 76 establishments, as in Morocco
            create_establishment(
                code=f"LP-{i:03d}",
                name=f"Prison locale {i}",
                name_ar=f"السجن المحلي {i}",
                kind="local_prison",
                capacity=rng.randint(400, 3000),
                actor=SYSTEM,
            )
        sess.flush()
        ests = list(
            sess.execute(select(Establishment.id, Establishment.code, Establishment.capacity))
        )
        create_user(
            username="bench.admin",
            password=PASSWORD,
            full_name="Bench Admin",
            roles=["central_admin"],
            establishments=[],
            actor=SYSTEM,
        )
        create_user(
            username="bench.clerk",
            password=PASSWORD,
            full_name="Bench Clerk",
            roles=["registry_clerk"],
            establishments=["CAS-AS"],
            actor=SYSTEM,
        )
        sess.commit()

        first_pool, last_pool = _name_pools()
        weights = [c for _, _, c in ests]
        now = dt.datetime.now(dt.UTC)
        year = now.year
        people: list[Person] = []
        key_cache: dict[tuple[str, str, str, str], set[str]] = {}
        det_rows: list[dict[str, Any]] = []
        plc_rows: list[dict[str, Any]] = []
        key_rows: list[dict[str, Any]] = []
        chunk = 5000
        totals = {"detainees": 0, "placements": 0, "name_keys": 0}
        conn = sess.connection()

        def flush() -> None:
            if det_rows:
                conn.execute(insert(Detainee), det_rows)
                conn.execute(insert(Placement), plc_rows)
                if conn.dialect.name == "postgresql":  # COPY: ~13 rows a detainee with pairs
                    raw = conn.connection.driver_connection
                    columns = "(detainee_id, establishment_id, key, weight)"
                    with (
                        raw.cursor() as cur,
                        cur.copy(f"COPY core_detainee_name_keys {columns} FROM STDIN") as copy,
                    ):
                        for row in key_rows:
                            copy.write_row(
                                (
                                    row["detainee_id"],
                                    row["establishment_id"],
                                    row["key"],
                                    row["weight"],
                                )
                            )
                else:
                    conn.execute(insert(DetaineeNameKey), key_rows)
                totals["detainees"] += len(det_rows)
                totals["placements"] += len(plc_rows)
                totals["name_keys"] += len(key_rows)
                det_rows.clear()
                plc_rows.clear()
                key_rows.clear()

        est_choices = rng.choices(ests, weights=weights, k=count)
        for i in range(1, count + 1):
            firsts, first_ar, sex = rng.choice(first_pool)
            lasts, last_ar = rng.choice(last_pool)
            first, last = rng.choice(firsts), rng.choice(lasts)
            est_id, est_code, _ = est_choices[i - 1]
            rn = f"{year}-{i:06d}"
            nid = f"{rng.choice('ABCDGJK')}{rng.choice(['', 'A', 'B', 'E', 'K'])}{100000 + i}"
            admitted = now - dt.timedelta(minutes=rng.randint(1, 5 * 365 * 24 * 60))
            det_rows.append(
                {
                    "id": i,
                    "registration_number": rn,
                    "first_name": first,
                    "last_name": last,
                    "first_name_ar": first_ar,
                    "last_name_ar": last_ar,
                    "birth_date": dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 19000)),
                    "sex": sex,
                    "national_id": nid,
                    "legal_status": rng.choice(("pretrial", "convicted", "convicted")),
                    "establishment_id": est_id,
                    "admitted_at": admitted,
                    "created_at": admitted,
                    "updated_at": admitted,
                }
            )
            plc_rows.append(
                {
                    "detainee_id": i,
                    "establishment_id": est_id,
                    "started_at": admitted,
                    "reason": "admission",
                    "note": "",
                }
            )
            name_tuple = (first, last, first_ar, last_ar)
            keys = key_cache.get(name_tuple)
            if keys is None:
                keys = key_cache[name_tuple] = {k[:60] for k in names.name_keys(*name_tuple)}
            key_rows.extend(
                {"detainee_id": i, "establishment_id": est_id, "key": k, "weight": 1} for k in keys
            )
            people.append(Person(rn, first, last, first_ar, last_ar, nid, est_code, firsts, lasts))
            if i % chunk == 0:
                flush()
                log(f"  seeded {i:,} detainees ({time.perf_counter() - started:.1f} s)")
        flush()
        sess.execute(insert(Counter).values(name=f"regno-{year}", value=count)) if count else None
        if sess.get_bind().dialect.name == "postgresql":
            sess.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('core_detainees', 'id'), "
                    "(SELECT max(id) FROM core_detainees))"
                )
            )
        sess.commit()
        if sess.get_bind().dialect.name == "postgresql":
            # what autovacuum does after a bulk load: statistics and the visibility map (so the
            # name-key index is read without visiting the table)
            with sess.get_bind().connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            sess.execute(text("ANALYZE"))
            sess.commit()
    return Seeded(people, time.perf_counter() - started, totals)


# --------------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------------


def _variant(spellings: tuple[str, ...], rng: random.Random) -> str:
    word = rng.choice(spellings)
    r = rng.random()
    if r < 0.2:
        return word.lower()
    if r < 0.3:
        return word.upper()
    if r < 0.4:
        return word.replace(" ", "")
    return word


def make_queries(people: list[Person], n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, query, registration number of the person meant or "") — mixed spellings, both
    scripts, identifiers, and a first or family name alone."""
    out: list[tuple[str, str, str]] = []
    kinds = [
        "latin",
        "latin",
        "latin",
        "arabic",
        "arabic",
        "mixed",
        "registration",
        "national_id",
        "one_name",
    ]
    for i in range(n):
        person = rng.choice(people)
        kind = kinds[i % len(kinds)]
        if kind == "latin":
            q = f"{_variant(person.first_spellings, rng)} {_variant(person.last_spellings, rng)}"
        elif kind == "arabic":
            q = f"{person.first_ar} {person.last_ar}"
            if rng.random() < 0.5:
                q = q.replace("ة", "ه").replace("أ", "ا").replace("إ", "ا")
        elif kind == "mixed":
            q = f"{person.first_ar} {_variant(person.last_spellings, rng)}"
        elif kind == "registration":
            q = person.rn
        elif kind == "national_id":
            q = person.national_id.lower()
        else:
            q = rng.choice([_variant(person.last_spellings, rng), person.last_ar])
        target = person.rn if kind in ("registration", "national_id") else ""
        out.append((kind, q, target))
    return out


# --------------------------------------------------------------------------------------------
# measuring
# --------------------------------------------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * pct / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Measure:
    name: str
    goal: str
    times_ms: list[float]
    note: str = ""
    goal_ms: float | None = None
    #: name-key rows read per query (the candidates the database hands to Python)
    candidates: list[int] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.times_ms)

    @property
    def p95(self) -> float:
        return percentile(self.times_ms, 95)

    @property
    def p99(self) -> float:
        return percentile(self.times_ms, 99)

    @property
    def max(self) -> float:
        return max(self.times_ms)

    @property
    def met(self) -> str:
        if self.goal_ms is None:
            return ""
        return "yes" if self.p95 < self.goal_ms else "**no**"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t0) * 1000, result


@contextmanager
def counting_name_key_rows() -> Iterator[list[int]]:
    """Counts the rows the search's name-key statements hand to Python (its candidates; a
    count(*) is one row): ``box[0]`` grows while the block runs."""
    from core.detainees import search as search_module

    box = [0]
    original = search_module._Sql.execute

    def execute(self: Any, sql: str) -> list[Any]:
        rows = original(self, sql)
        box[0] += len(rows)
        return rows

    search_module._Sql.execute = execute  # type: ignore[method-assign]
    try:
        yield box
    finally:
        search_module._Sql.execute = original  # type: ignore[method-assign]


def measure(
    app: Any, seeded: Seeded, queries: int, rng: random.Random, search_only: bool = False
) -> dict[str, Any]:
    from core.db import session
    from core.detainees.search import search
    from core.identity.models import User

    qs = make_queries(seeded.people, queries, rng)
    results: list[Measure] = []
    checks = {"identifier_first": 0, "identifier_total": 0}
    candidates: list[int] = []

    def users() -> tuple[Any, Any]:
        admin = session().scalar(select(User).where(User.username == "bench.admin"))
        clerk = session().scalar(select(User).where(User.username == "bench.clerk"))
        return admin, clerk

    # warm-up (caches, prepared plans)
    with app.app_context():
        admin, _ = users()
        for _kind, q, _ in qs[:10]:
            search(admin, q)

    # through the service, a fresh session per query as in a request
    for label, which in (
        ("central_admin (all establishments)", 0),
        ("registry clerk (one establishment)", 1),
    ):
        times = []
        for _kind, q, target in qs:
            with app.app_context():
                user = users()[which]
                with counting_name_key_rows() as rows:
                    ms, page = _timed(lambda user=user, q=q: search(user, q))
                times.append(ms)
                if which == 0:
                    candidates.append(rows[0])
                if target and which == 0:
                    checks["identifier_total"] += 1
                    if page.items and page.items[0].registration_number == target:
                        checks["identifier_first"] += 1
        results.append(
            Measure(f"search, service, {label}", "< 100 ms", times, goal_ms=GOALS["search"])
        )
    by_kind: dict[str, list[float]] = {}
    rows_by_kind: dict[str, list[int]] = {}
    for (kind, _q, _), ms, rows in zip(qs, results[0].times_ms, candidates, strict=True):
        by_kind.setdefault(kind, []).append(ms)
        rows_by_kind.setdefault(kind, []).append(rows)
    results[0].candidates = candidates
    kinds = [
        Measure(f"search by kind: {kind}", "", ts, candidates=rows_by_kind[kind])
        for kind, ts in sorted(by_kind.items())
    ]
    if search_only:
        return {"results": results, "kinds": kinds, "checks": checks, "queries": qs}

    client = app.test_client()
    resp = client.post("/api/v1/auth/token", json={"username": "bench.admin", "password": PASSWORD})
    token = resp.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    for _kind, q, _ in qs:
        ms, resp = _timed(
            lambda q=q: client.get("/api/v1/detainees", query_string={"q": q}, headers=headers)
        )
        assert resp.status_code == 200, resp.data[:300]
        times.append(ms)
    results.append(
        Measure(
            "search, HTTP API `GET /api/v1/detainees?q=`",
            "< 100 ms",
            times,
            goal_ms=GOALS["search"],
        )
    )

    page_client = app.test_client()
    resp = page_client.post("/login", data={"username": "bench.admin", "password": PASSWORD})
    assert resp.status_code == 302, resp.data[:300]
    times = []
    for _kind, q, _ in qs:
        ms, resp = _timed(lambda q=q: page_client.get("/detainees/", query_string={"q": q}))
        assert resp.status_code == 200
        times.append(ms)
    results.append(
        Measure("search, HTTP page `/detainees/?q=`", "< 100 ms", times, goal_ms=GOALS["search"])
    )

    times = []
    failure = ""
    sample = rng.sample(seeded.people, min(queries, len(seeded.people)))
    for person in sample:
        try:
            ms, resp = _timed(lambda p=person: page_client.get(f"/detainees/{p.rn}"))
        except Exception as exc:  # another module's panel failing: report it, measure on
            failure = f"{type(exc).__name__}: {exc}"
            continue
        if resp.status_code != 200:
            failure = f"HTTP {resp.status_code}"
            continue
        times.append(ms)
    profile = Measure(
        "profile page `/detainees/<rn>`",
        "< 50 ms",
        times or [float("nan")],
        goal_ms=GOALS["profile"],
    )
    if failure:
        profile.note = f"{len(times)} of {len(sample)} pages rendered; last error: {failure}"
    results.append(profile)

    return {"results": results, "kinds": kinds, "checks": checks, "queries": qs}


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    import sqlalchemy

    return {
        "cpu": f"{os.cpu_count()} cores ({cpu})" if cpu else f"{os.cpu_count()} cores",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sqlalchemy.__version__,
        "os": platform.platform(),
    }


def render(runs: list[dict[str, Any]], args: argparse.Namespace) -> str:
    m = machine()
    lines = [
        "# Performance",
        "",
        "Measured by `make bench` "
        "(`python -m bench.run --detainees N --backend sqlite|postgresql|both`);",
        "the numbers below are the last run's, written by the benchmark itself.",
        "",
        f"- Machine: {m['cpu']}, {m['os']} — shared with other work while measuring.",
        f"- Python {m['python']}, SQLAlchemy {m['sqlalchemy']}, SQLite {m['sqlite']}.",
        f"- Data: {args.detainees:,} detainees in 76 establishments, names drawn from "
        f"{len(_name_pools()[0])} first names × {len(_name_pools()[1])} family names in "
        "several Latin spellings and Arabic (so hundreds of people share each full name: a "
        "hard case for ranking and candidate counts); one placement each; name keys from "
        "`core/detainees/names.py`.",
        f"- Queries: {args.queries} per measure, mixed: Latin variant spellings (lower/upper "
        "case, articles glued or apart), Arabic (with and without hamza/ta marbuta), Arabic "
        "first name + Latin family name, registration numbers, national ids, a family name "
        "alone. Service timings open a fresh session per query, as a request does; HTTP "
        "timings go through Flask's test client (routing, auth, templates/JSON), signed in.",
        "- Goals: seeding 100k < 2 min; search p95 < 100 ms; profile page p95 < 50 ms.",
        "",
    ]
    for run in runs:
        seeded: Seeded = run["seeded"]
        lines += [
            f"## {run['backend']}" + (f" ({run['server']})" if run.get("server") else ""),
            "",
            f"Seeding {seeded.rows.get('detainees', 0):,} detainees, "
            f"{seeded.rows.get('placements', 0):,} placements and "
            f"{seeded.rows.get('name_keys', 0):,} name keys: **{seeded.seconds:.1f} s** "
            f"(goal < 120 s for 100k: {'yes' if seeded.seconds < 120 else '**no**'}). "
            f"Plugins loaded: {', '.join(run['plugins'])}.",
            "",
            "| measure | p50 ms | p95 ms | p99 ms | max ms | goal (p95) | met |",
            "| --- | ---: | ---: | ---: | ---: | --- | --- |",
        ]
        for r in run["results"]:
            lines.append(
                f"| {r.name} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} | {r.max:.1f} "
                f"| {r.goal} | {r.met} |"
            )
        for r in run["results"]:
            if r.note:
                lines += ["", f"Note on {r.name}: {r.note}"]
        lines += ["", "Service search (central_admin) by kind of query:", ""]
        lines += [
            "| kind | queries | p50 ms | p95 ms | p99 ms | max ms | candidates / query |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in run["kinds"] + run["results"][:1]:
            kind = r.name.split(": ", 1)[1] if ": " in r.name else "all"
            rows = statistics.mean(r.candidates) if r.candidates else 0
            lines.append(
                f"| {kind} | {len(r.times_ms)} | {r.p50:.1f} | {r.p95:.1f} | {r.p99:.1f} "
                f"| {r.max:.1f} | {rows:,.0f} |"
            )
        c = run["checks"]
        lines += [
            "",
            f"Registration number / national id queries answered with that person first: "
            f"{c['identifier_first']} of {c['identifier_total']}.",
            "",
        ]
    lines += [
        "## How search stays fast",
        "",
        "- Names are reduced to consonant-skeleton keys shared by both scripts "
        "(`core/detainees/names.py`), stored in the indexed `core_detainee_name_keys` table "
        "(index on `key, detainee_id`: the candidate queries read the index only). Every two "
        "keys of a person are stored together too, as a *pair key* (`mhmd l`: Mohamed and "
        "Alaoui), so that two common words — a first name and a family name each shared by "
        "tens of thousands at national scale — are found together by one index range over "
        "exactly the people who have both, instead of intersecting two long posting lists "
        "(three times the rows: about 13 per detainee instead of 4.4 with this benchmark's "
        "names).",
        "- The database ranks and stops early: the driving keys (one word's keys; for two words "
        "or more, the pair keys of the two rarest, each other word an `EXISTS` probe on the "
        "primary key `(detainee_id, key)`) are read each in index order, `ORDER BY "
        "detainee_id LIMIT 300`, all in one `UNION ALL` statement; each key carries the query's "
        "weight (whole word, without article/particle, coarse; for a pair the two added), so "
        "these rows hold exactly the best 300 by (weight, id) however many thousands share a "
        "name. When more match, a count over at most 5,000 index rows gives the total. When "
        "nobody matches every word, every way of leaving one word out runs in one more "
        "statement. Each name key carries its detainee's establishment (a two-column foreign "
        "key, `ON UPDATE CASCADE`, keeps it right through transfers), so a search scoped to "
        "an establishment reads the index range `(key, establishment_id)` in id order, its own "
        "postings only. The SQL is written as text: building "
        "a dozen aliased SQLAlchemy branches per query cost more than running them.",
        "- Only those best 300 candidates are ranked in Python by spelling "
        "closeness (memoised per word pair and per name), then the page's rows are loaded.",
        "",
    ]
    return "\n".join(lines)


def run_backend(
    backend: str, args: argparse.Namespace, log: Callable[[str], None]
) -> dict[str, Any]:
    from core.testing import build_migrated_app

    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="idmaj-bench-") as tmp:
        tmp_path = Path(tmp)
        with temporary_database(backend, tmp_path) as url:
            log(f"[{backend}] migrating a temporary database")
            app = build_migrated_app(
                url, tmp_path, RATELIMIT_ENABLED=False, DISABLED_PLUGINS=args.disable_plugins
            )
            try:
                loaded = [i.name for i in app.extensions["idmaj.plugins"].plugin_infos()]
                log(f"[{backend}] plugins: {', '.join(loaded)}; seeding {args.detainees:,}")
                seeded = seed(app, args.detainees, rng, log)
                log(f"[{backend}] seeded in {seeded.seconds:.1f} s; measuring")
                out = measure(app, seeded, args.queries, rng, args.search_only)
                server = ""
                if backend == "postgresql":
                    with app.app_context():
                        from core.db import session

                        server = "PostgreSQL " + str(session().scalar(text("SHOW server_version")))
                for r in out["results"] + out["kinds"]:
                    rows = statistics.mean(r.candidates) if r.candidates else 0
                    log(
                        f"  {r.name}: p50 {r.p50:.1f} ms, p95 {r.p95:.1f} ms, "
                        f"p99 {r.p99:.1f} ms, max {r.max:.1f} ms, {rows:,.0f} candidates"
                    )
                    if r.note:
                        log(f"    {r.note}")
                c = out["checks"]
                log(f"  identifiers first: {c['identifier_first']} of {c['identifier_total']}")
            finally:
                app.extensions["idmaj.db"].dispose()
    return {
        "backend": "SQLite" if backend == "sqlite" else "PostgreSQL",
        "server": server,
        "plugins": loaded,
        "seeded": seeded,
        **out,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--detainees", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where to write the report")
    parser.add_argument(
        "--disable-plugins",
        default="",
        help="comma-separated plugin names not to load (default: every installed plugin)",
    )
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    parser.add_argument(
        "--search-only",
        action="store_true",
        help="measure the search service only (no HTTP nor profile pages: quicker at 1M)",
    )
    args = parser.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    runs = [run_backend(b, args, log) for b in backends]
    report = render(runs, args)
    if args.no_write:
        print(report)
    else:
        kept = ""
        if args.output.exists():  # the sections written by hand (1M search, modules): kept
            old = args.output.read_text(encoding="utf-8")
            found = [old.index(h) for h in KEPT_HEADINGS if h in old]
            if found:
                kept = "\n" + old[min(found) :]
        args.output.write_text(report + "\n" + kept, encoding="utf-8")
        log(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
