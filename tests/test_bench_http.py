"""The HTTP benchmark's pure parts (bench/http): wrk output, SQL capture, replay mapping.
No timing is asserted here; the figures are the benchmark's (docs/performance.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import re
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.http.capture import Capture, Mapper, Recorder, find_fresh, fresh_value
from bench.http.load import parse, script

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:18431
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    13.27ms    2.10ms  30.00ms   80.00%
    Req/Sec   150.00     20.00   200.00     70.00%
  3001 requests in 10.01s, 3.00MB read
  Non-2xx or 3xx responses: 5
  Socket errors: connect 0, read 1, write 0, timeout 2
Requests/sec:    299.70
Transfer/sec:    306.00KB
BENCH_BAD 7
BENCH_NEXT 3410
BENCH_STATUS 409=5 422=2
BENCH_FIRST_BAD 409 {"error": {"code": "already_booked"}}
BENCH_FIRST_BAD 422 {"error": {"code": "quota_reached"}}
BENCH_LAT 12500.0 29000.0 13270.0
"""


def test_parse_wrk_output() -> None:
    r = parse(WRK_OUTPUT)
    assert (r.requests, r.seconds, r.rps) == (3001, 10.01, 299.70)
    assert (r.p50_ms, r.p99_ms, r.mean_ms) == (12.5, 29.0, 13.27)
    assert (r.bad, r.socket_errors) == (7, 3)
    assert r.next_index == 3410
    assert r.statuses == "409=5 422=2"
    # each thread's first refusal, as it said it: the log shows why requests were refused
    assert r.first_bad == [
        '409 {"error": {"code": "already_booked"}}',
        '422 {"error": {"code": "quota_reached"}}',
    ]


def test_recorder_keeps_statements_and_transactions_on_sqlite() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    recorder = Recorder(engine)
    with recorder.recording() as events, engine.connect() as conn:
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "a"})
        conn.commit()
        conn.execute(text("SELECT id FROM t WHERE v = :v"), {"v": "a"}).all()
        conn.rollback()
    assert [e[0] for e in events] == ["sql", "commit", "sql", "rollback"]
    assert events[0][1] == "INSERT INTO t (v) VALUES (?)" and events[0][2] == ("a",)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1")).all()
    assert len(events) == 4  # nothing recorded outside recording()


def _cap(variables: dict, events: list) -> Capture:
    return Capture("x", events, variables, 201, [], b"", dt.datetime.now(dt.UTC))


def test_replay_maps_variables_and_returned_ids_and_finds_generated_values() -> None:
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    a = _cap(
        {"rn": "2026-000001"},
        [
            (
                "sql",
                "SELECT id, count FROM d WHERE rn = %(rn)s",
                {"rn": "2026-000001"},
                False,
                [(11,)],
                (0,),
            ),
            (
                "sql",
                "INSERT INTO b VALUES (%(d)s, %(n)s, %(ref)s, %(at)s)",
                {"d": 11, "n": 3, "ref": "AB12CD", "at": at},
                False,
                None,
                (),
            ),
        ],
    )
    b = _cap(
        {"rn": "2026-000002"},
        [
            (
                "sql",
                "SELECT id, count FROM d WHERE rn = %(rn)s",
                {"rn": "2026-000002"},
                False,
                [(12,)],
                (0,),
            ),
            (
                "sql",
                "INSERT INTO b VALUES (%(d)s, %(n)s, %(ref)s, %(at)s)",
                {"d": 12, "n": 3, "ref": "ZZ98YY", "at": at + dt.timedelta(seconds=1)},
                False,
                None,
                (),
            ),
        ],
    )
    find_fresh(a, b)
    assert a.fresh == {(1, "ref"): "str", (1, "at"): "datetime"}
    assert not a.notes
    mapper = Mapper(a.variables, {"rn": "2026-000003"})
    assert mapper.params(a.events[0][2]) == {"rn": "2026-000003"}
    mapper.learn(a.events[0][4], [(13,)])
    assert mapper.params(a.events[1][2])["d"] == 13
    ref = fresh_value("str", "AB12CD", at, random.Random(1))
    assert len(ref) == 6 and ref[:2].isupper() and ref[2:4].isdigit() and ref != "AB12CD"


def test_rows_returned_in_another_order_are_paired_by_what_they_hold() -> None:
    """The deposit locks the detainee's account and the establishment's ledger row ``ORDER BY
    id``: for another detainee the account may come after the ledger row. Each replayed row
    is paired with the captured row it agrees with, not the one at its position."""
    mapper = Mapper({}, {})
    # captured: (id, kind, owner, balance); the account (id 7) before the ledger row (id 9)
    captured = [(7, "detainee", 501, 1000), (9, "ledger", None, 5000)]
    replayed = [(9, "ledger", None, 5000), (12, "detainee", 777, 2000)]
    mapper.learn(captured, replayed)
    assert mapper.value(7) == 12 and mapper.value(501) == 777
    assert mapper.value(9) == 9  # the shared ledger row stays itself
    # in the same order, nothing changes from pairing by position
    same_order = Mapper({}, {})
    same_order.learn([(1, "a"), (2, "b")], [(3, "a"), (4, "b")])
    assert same_order.value(1) == 3 and same_order.value(2) == 4


def test_lua_script_defines_the_request_builder() -> None:
    specs = {"p": {"kind": "get", "urls": ["/a", "/b"], "headers": {"Cookie": 'c="1"'}}}
    lua = script(["p"], specs, 7, "x")
    assert "OFFSET = 7" in lua and "build = build_p" in lua and 'c=\\"1\\"' in lua
    # where the next run starts: after the last index any thread used, not after the count
    assert "BENCH_NEXT" in lua and "OFFSET + m * #threads" in lua


def test_idmaj_and_each_twin_book_for_families_of_their_own() -> None:
    from bench.http.load import nth_request
    from bench.http.run import LABELS, families_apart

    specs = {
        "booking": {
            "kind": "booking",
            "path": "/api/v1/visits/bookings",
            "rns": [f"2026-00000{k}" for k in range(7)],
            "tokens": [f"t{k}" for k in range(7)],
            "slots": [11, 12],
        },
        "other": {"kind": "get", "urls": ["/a"], "headers": {}},
    }
    assert LABELS == ["idmaj", "twin", "twin_sa"]
    driven = families_apart(specs, LABELS)
    assert list(driven) == LABELS
    assert driven["idmaj"]["other"] is specs["other"]
    seen = {label: set() for label in driven}
    for label, label_specs in driven.items():
        for i in range(40):
            _m, _url, headers, body = nth_request(label_specs["booking"], i, "k")
            seen[label].add((headers["Authorization"], json.loads(body)["detainee"]))
    assert all(len(pairs) == 2 for pairs in seen.values())  # 7 // 3 families each
    families = [{rn for _t, rn in seen[label]} for label in LABELS]
    for a, b in itertools.combinations(families, 2):
        assert not a & b
    # each family keeps its own token
    for pairs in seen.values():
        assert all(token[-1] == rn[-1] for token, rn in pairs)
    with pytest.raises(ValueError):
        families_apart({**specs, "booking": {**specs["booking"], "rns": ["a", "b"]}}, LABELS)


def test_free_ports_finds_one_port_per_server() -> None:
    from bench.http.run import free_ports

    port = free_ports(3)
    socks = [socket.socket() for _ in range(3)]
    try:
        for k, sock in enumerate(socks):
            sock.bind(("127.0.0.1", port + k))
    finally:
        for sock in socks:
            sock.close()


# --------------------------------------------------------------------------------------------
# the twins' layers
# --------------------------------------------------------------------------------------------


class FakeLayer:
    """What replay() asks of a layer, recorded; ``answers``: the rows of a statement."""

    def __init__(self, answers: dict[str, list[tuple]]) -> None:
        self.answers = answers
        self.calls: list[tuple] = []

    @contextmanager
    def request(self) -> Iterator[FakeLayer]:
        self.calls.append(("request",))
        yield self
        self.calls.append(("end",))

    def execute(self, stmt: str, params: Any, many: bool) -> list[tuple] | None:
        self.calls.append(("sql", stmt, params, many))
        return self.answers.get(stmt)

    def commit(self) -> None:
        self.calls.append(("commit",))

    def rollback(self) -> None:
        self.calls.append(("rollback",))

    def ping(self) -> None:
        self.calls.append(("ping",))


def test_replay_drives_a_layer_event_by_event() -> None:
    from bench.http.twin import replay

    cap = _cap(
        {"rn": "2026-000001"},
        [
            ("ping",),
            (
                "sql",
                "SELECT id FROM d WHERE rn = %(rn)s",
                {"rn": "2026-000001"},
                False,
                [(11,)],
                (0,),
            ),
            (
                "sql",
                "INSERT INTO b VALUES (%(d)s, %(ref)s)",
                {"d": 11, "ref": "AB12"},
                False,
                None,
                (),
            ),
            ("sql", "INSERT INTO l VALUES (%(d)s)", [{"d": 11}, {"d": 11}], True, None, ()),
            ("commit",),
            ("rollback",),
        ],
    )
    cap.fresh = {(2, "ref"): "str"}
    layer = FakeLayer({"SELECT id FROM d WHERE rn = %(rn)s": [(13, "ignored")]})
    replay(layer, cap, {"rn": "2026-000003"}, random.Random(1))
    tags = [c[0] for c in layer.calls]
    assert tags == ["request", "ping", "sql", "sql", "sql", "commit", "rollback", "end"]
    assert layer.calls[2][2:] == ({"rn": "2026-000003"}, False)
    insert = layer.calls[3][2]
    assert insert["d"] == 13 and insert["ref"] != "AB12" and len(insert["ref"]) == 4
    assert layer.calls[4][2:] == ([{"d": 13}, {"d": 13}], True)


def test_the_sqlalchemy_layer_is_an_engine_on_the_twin_dsn() -> None:
    from sqlalchemy.pool import QueuePool

    from bench.http.twin import PsycopgLayer, SQLAlchemyLayer, make_layer

    dsn = "postgresql://postgres@127.0.0.1:5432/bench?application_name=bench-twin_sa"
    layer = make_layer("sqlalchemy", dsn)
    assert isinstance(layer, SQLAlchemyLayer)
    url = layer.engine.url
    assert url.drivername == "postgresql+psycopg" and url.database == "bench"
    assert url.query["application_name"] == "bench-twin_sa"
    assert isinstance(layer.engine.pool, QueuePool) and not layer.engine.pool._pre_ping
    assert isinstance(make_layer("psycopg", dsn), PsycopgLayer)
    with pytest.raises(ValueError):
        make_layer("orm", dsn)


@pytest.mark.postgresql
@pytest.mark.parametrize("layer_name", ["psycopg", "sqlalchemy"])
def test_each_twin_layer_replays_a_capture_on_postgresql(db_url: str, layer_name: str) -> None:
    import psycopg
    from sqlalchemy.engine import make_url

    from bench.http.twin import make_layer, replay

    base = make_url(db_url).set(drivername="postgresql")
    admin_dsn = base.render_as_string(hide_password=False)
    app_name = f"bench-test-{uuid.uuid4().hex[:8]}"
    dsn = base.update_query_dict({"application_name": app_name}).render_as_string(
        hide_password=False
    )
    t = f"bench_twin_{uuid.uuid4().hex[:8]}"
    rng = random.Random(1)
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute(f"CREATE TABLE {t}_d (id serial PRIMARY KEY, rn text UNIQUE)")
        admin.execute(f"CREATE TABLE {t}_b (id serial PRIMARY KEY, d_id int, ref text, note text)")
        admin.execute(f"CREATE TABLE {t}_l (b_id int, k int)")
        admin.execute(
            f"INSERT INTO {t}_d (rn) VALUES ('2026-000001'), ('2026-000002'), ('2026-000003')"
        )
        ids = dict(admin.execute(f"SELECT rn, id FROM {t}_d").fetchall())
        layer = make_layer(layer_name, dsn)
        try:
            cap = _cap(
                {"rn": "2026-000001"},
                [
                    ("ping",),
                    (
                        "sql",
                        f"SELECT id, rn FROM {t}_d WHERE rn = %(rn)s",
                        {"rn": "2026-000001"},
                        False,
                        [(ids["2026-000001"],)],
                        (0,),
                    ),
                    (  # a literal %, doubled as SQLAlchemy sends it with pyformat parameters
                        "sql",
                        f"INSERT INTO {t}_b (d_id, ref, note) VALUES (%(d)s, %(ref)s, "
                        "'100%% sure') RETURNING id",
                        {"d": ids["2026-000001"], "ref": "AB12"},
                        False,
                        [(900,)],
                        (0,),
                    ),
                    (
                        "sql",
                        f"INSERT INTO {t}_l (b_id, k) VALUES (%(b)s, %(k)s)",
                        [{"b": 900, "k": 7}, {"b": 900, "k": 8}],
                        True,
                        None,
                        (),
                    ),
                    ("commit",),
                    (
                        "sql",
                        f"INSERT INTO {t}_l (b_id, k) VALUES (%(b)s, 99)",
                        {"b": 900},
                        False,
                        None,
                        (),
                    ),
                    ("rollback",),
                ],
            )
            cap.fresh = {(2, "ref"): "str"}
            replay(layer, cap, {"rn": "2026-000003"}, rng)
            [(b_id, d_id, ref, note)] = admin.execute(
                f"SELECT id, d_id, ref, note FROM {t}_b"
            ).fetchall()
            assert d_id == ids["2026-000003"] and note == "100% sure"
            assert len(ref) == 4 and ref != "AB12" and ref[:2].isupper() and ref[2:].isdigit()
            # the executemany got the id the INSERT returned; the rolled back row is not there
            lines = sorted(admin.execute(f"SELECT b_id, k FROM {t}_l").fetchall())
            assert lines == [(b_id, 7), (b_id, 8)]
            # one backend per worker, found by its application_name (PgCpu)
            found = admin.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", (app_name,)
            ).fetchone()
            assert found == (1,)

            # a failing request is rolled back, and the layer serves the next one
            failing = _cap(
                {},
                [
                    ("sql", f"INSERT INTO {t}_l (b_id, k) VALUES (0, 0)", {}, False, None, ()),
                    ("sql", f"SELECT * FROM {t}_missing", {}, False, None, ()),
                    ("commit",),
                ],
            )
            with pytest.raises(Exception, match="missing"):
                replay(layer, failing, {}, rng)
            replay(layer, cap, {"rn": "2026-000002"}, rng)
            d_ids = [r[0] for r in admin.execute(f"SELECT d_id FROM {t}_b ORDER BY id")]
            assert d_ids == [ids["2026-000003"], ids["2026-000002"]]
            assert admin.execute(f"SELECT count(*) FROM {t}_l WHERE k = 0").fetchone() == (0,)
        finally:
            layer.close()
            for suffix in ("d", "b", "l"):
                admin.execute(f"DROP TABLE IF EXISTS {t}_{suffix}")


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def _fake_run() -> dict[str, Any]:
    def server(rps: float, bad: int = 0) -> dict[str, Any]:
        return {
            "rps": rps,
            "p50": 10.0,
            "p99": 20.0,
            "cpu_ms": 2.0,
            "pg_ms": 1.0,
            "bad": bad,
            "statuses": "409=1" if bad else "",
            "requests": int(rps * 3),
        }

    results = [
        # profile: 60% of the SQLAlchemy twin (goal met), 30% of the psycopg twin
        {
            "round": 1,
            "path": "profile",
            "conc": 4,
            "idmaj": server(60),
            "twin": server(200),
            "twin_sa": server(100),
        },
        # booking: 40% of the SQLAlchemy twin (goal missed), 80% of the psycopg twin
        {
            "round": 1,
            "path": "booking",
            "conc": 4,
            "idmaj": server(40, bad=3),
            "twin": server(50),
            "twin_sa": server(100),
        },
    ]
    return {
        "args": argparse.Namespace(
            concurrency=[4],
            quick=True,
            detainees=5000,
            rounds=1,
            seconds=3.0,
            note="",
            mixed=300,
        ),
        "results": results,
        "loadavg": ((0.5, 0.5, 0.5), (0.6, 0.6, 0.6)),
        "plugins": ["core", "visits"],
        "elapsed": 120.0,
        "memory": {
            "warm": [120.0, 121.0],
            "mixed": [125.0, 126.0],
            "mixed_requests": 400,
            "interleaved": 100,
            "mixed_bad": 0,
        },
        "fidelity": ["profile: 1 capture(s)"],
        "errors": {"idmaj": [], "twin": [], "twin_sa": []},
    }


def test_report_shows_both_ratios_and_checks_the_goal_against_the_sqlalchemy_twin() -> None:
    from bench.http import report

    table = report.render(_fake_run(), "after")
    profile = next(line for line in table.splitlines() if line.startswith("| profile page"))
    booking = next(line for line in table.splitlines() if line.startswith("| booking"))
    cells = [c.strip() for c in profile.strip("|").split("|")]
    assert cells[2:7] == ["60", "100", "**60%** ✓", "200", "30%"]
    cells = [c.strip() for c in booking.strip("|").split("|")]
    assert cells[2:8] == ["40", "100", "**40%** (goal ≥ 50%)", "50", "80%", "idmaj 3"]
    assert "SQLAlchemy twin" in table and "stricter ceiling" in table
    # latency and CPU of all three servers
    latency = [line for line in table.splitlines() if line.startswith("| profile page")][1]
    assert latency.count("10.0 / 20.0") == 3 and "2.0 / 2.0 / 2.0" in latency
    data = json.loads(re.search(r"<!-- bench-http-data (.*?) -->", table).group(1))
    row = data["rows"]["profile/4"]
    assert (row["ratio"], row["ratio_sa"]) == (0.3, 0.6)  # "ratio" stays the psycopg twin's
    assert (row["twin_rps"], row["twin_sa_rps"]) == (200, 100)


def test_comparison_reads_blocks_with_and_without_the_sqlalchemy_twin() -> None:
    from bench.http import report

    old = (
        '<!-- bench-http:before -->\n<!-- bench-http-data {"label": "before", "rows": '
        '{"profile/4": {"ratio": 0.292, "idmaj_rps": 11.4, "twin_rps": 39.2, '
        '"idmaj_cpu_ms": 58.73}}, "rss": [137.8, 137.8]} -->\n<!-- /bench-http:before -->'
    )
    new = report.render(_fake_run(), "after")
    text = report.comparison({"before": old, "after": new}, ["before", "after"])
    line = next(x for x in text.splitlines() if x.startswith("| profile page"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2:] == [
        "",
        "29% (11 vs 39 req/s)",
        "60% (60 vs 100 req/s)",
        "30% (60 vs 200 req/s)",
    ]
    assert "before: Idmaj/twin_sa" in text and "after: Idmaj/twin" in text


@contextmanager
def _scratch_schema(db_url: str, prefix: str) -> Iterator[Any]:
    """An engine whose search_path is a schema of its own, dropped afterwards."""
    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(db_url, connect_args={"options": f"-c search_path={schema}"})
    try:
        yield engine, schema
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgresql
def test_spread_ids_gives_every_table_identifiers_of_its_own(db_url: str) -> None:
    """The twins map captured values to theirs by value: a slot and an establishment both
    numbered 1 made the twins write at the wrong establishment. After ``spread_ids`` no two
    tables hand out the same identifier, and rows already there keep theirs."""
    from types import SimpleNamespace

    from bench.http.data import ID_SPACE, spread_ids

    with _scratch_schema(db_url, "bench_ids") as (engine, _schema):
        with engine.begin() as conn:
            for table in ("establishments", "slots", "users"):
                conn.execute(text(f"CREATE TABLE {table} (id serial PRIMARY KEY, x int)"))
            conn.execute(text("INSERT INTO establishments (x) VALUES (0)"))
        spread_ids(SimpleNamespace(extensions={"idmaj.db": SimpleNamespace(engine=engine)}))
        with engine.begin() as conn:
            new = {
                table: conn.scalar(text(f"INSERT INTO {table} (x) VALUES (1) RETURNING id"))
                for table in ("establishments", "slots", "users")
            }
            kept = conn.scalar(text("SELECT min(id) FROM establishments"))
        assert kept == 1
        ranges = {table: value // ID_SPACE for table, value in new.items()}
        assert len(set(ranges.values())) == 3 and 0 not in ranges.values(), new


@pytest.mark.postgresql
def test_analyze_leaves_no_table_without_statistics(db_url: str) -> None:
    """What is seeded after bench/run.py's own ANALYZE (the hot paths' slots, families…) is
    analyzed too before any server is measured."""
    from types import SimpleNamespace

    from bench.http.data import analyze

    with _scratch_schema(db_url, "bench_stats") as (engine, schema):
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE slots (id serial PRIMARY KEY, x int)"))
            conn.execute(text("INSERT INTO slots (x) SELECT g FROM generate_series(1, 500) g"))
        analyze(SimpleNamespace(extensions={"idmaj.db": SimpleNamespace(engine=engine)}))
        with engine.connect() as conn:
            changed, analyzed = conn.execute(
                text(
                    "SELECT n_mod_since_analyze, last_analyze FROM pg_stat_user_tables "
                    "WHERE schemaname = :s AND relname = 'slots'"
                ),
                {"s": schema},
            ).one()
        assert analyzed is not None and changed == 0


@pytest.mark.postgresql
def test_the_profiles_measured_are_detainees_no_other_path_touches(tmp_path: Any) -> None:
    """The twins send the profile page as it was captured; Idmaj renders it again each time.
    A profile among the booking families grew with every booking of the earlier paths, so the
    profiles are detainees held at another establishment: nothing the benchmark books or
    deposits reaches them."""
    from bench.http.data import ESTABLISHMENT, seed_hot_paths
    from bench.run import seed, temporary_database
    from core.db import session
    from core.testing import build_migrated_app

    with temporary_database("postgresql", tmp_path) as url:
        app = build_migrated_app(url, tmp_path, RATELIMIT_ENABLED=False)
        try:
            seed(app, 6000, random.Random(7), lambda _m: None)
            data = seed_hot_paths(app, families=60, deposit_accounts=5)
            with app.app_context():
                rows = session().execute(
                    text(
                        "SELECT d.registration_number, e.code FROM core_detainees d "
                        "JOIN core_establishments e ON e.id = d.establishment_id"
                    )
                )
                held_at = {rn: code for rn, code in rows}
                assert len(held_at) >= 6000
        finally:
            app.extensions["idmaj.db"].dispose()
    touched = {*data.booking_rns, *data.deposit_rns, data.family_rn}
    assert len(data.profile_rns) == 20 and not touched & set(data.profile_rns)
    assert all(held_at[rn] != ESTABLISHMENT for rn in data.profile_rns)


@pytest.mark.postgresql
def test_autovacuum_step_does_what_autovacuum_would_have_done(db_url: str) -> None:
    """The sessions' PostgreSQL runs with autovacuum off: between runs the benchmark analyzes
    (and vacuums) the tables past autovacuum's thresholds, and only those, so that a table
    that grew during a run is not planned as the empty table it was when seeded."""
    import psycopg

    from bench.http.data import autovacuum_step

    with _scratch_schema(db_url, "bench_autovac") as (engine, schema):
        with engine.begin() as conn:
            for table in ("grown", "still"):
                conn.execute(text(f"CREATE TABLE {table} (id serial PRIMARY KEY, x int)"))
            conn.execute(text("INSERT INTO still (x) SELECT g FROM generate_series(1, 1000) g"))
            conn.execute(text("ANALYZE grown"))
            conn.execute(text("ANALYZE still"))
        dsn = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True, options=f"-c search_path={schema}") as pg:
            pg.execute("INSERT INTO grown (x) SELECT g FROM generate_series(1, 5000) g")
            pg.execute("UPDATE still SET x = x + 1 WHERE id <= 20")  # under 50 + 10 %
            pg.execute("SELECT pg_stat_force_next_flush()")
            pg.execute("SELECT 1")  # the counters are flushed at the end of a statement
            done = autovacuum_step(pg)
            assert done == ["grown: vacuum analyze"]
            reltuples = pg.execute("SELECT reltuples FROM pg_class WHERE oid = 'grown'::regclass")
            assert reltuples.fetchone()[0] == 5000
            assert autovacuum_step(pg) == []


def test_a_signed_in_cookie_is_the_one_a_browser_keeps(app: Any, factories: Any) -> None:
    """The benchmark sends one cookie per user for every request: it must be the cookie a
    browser holds after its first page (the CSRF token in it), or each measured request would
    sign a new token and write the session back, which a browser's requests do not."""
    from bench.http.data import sign_in
    from bench.run import PASSWORD

    with app.app_context():
        factories.user("central_admin", username="bench.cookie", password=PASSWORD)
    cookie = sign_in(app, "bench.cookie")
    client = app.test_client(use_cookies=False)
    resp = client.get("/detainees/", headers={"Cookie": cookie})
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    # the login alone (what the benchmark sent before) is rewritten on the first page
    login_only = app.test_client()
    login_only.post("/login", data={"username": "bench.cookie", "password": PASSWORD})
    bare = login_only.get_cookie(app.config["SESSION_COOKIE_NAME"])
    resp = client.get("/detainees/", headers={"Cookie": f"{bare.key}={bare.value}"})
    assert resp.status_code == 200 and "Set-Cookie" in resp.headers


@pytest.mark.postgresql
def test_an_insertmanyvalues_batch_is_recorded_as_one_statement_with_its_ids(
    db_url: str,
) -> None:
    """SQLAlchemy flags a batch of rows written by one ``INSERT … VALUES (…), (…) RETURNING``
    as executemany but sends one statement with one set of parameters: the recorder keeps it
    as one statement (a twin replays it so) with the ids it returned."""
    from sqlalchemy import BigInteger, Column, Integer, MetaData, Table

    with _scratch_schema(db_url, "bench_imv") as (engine, _schema):
        table = Table(
            "t", MetaData(), Column("id", BigInteger, primary_key=True), Column("v", Integer)
        )
        table.metadata.create_all(engine)
        recorder = Recorder(engine)
        stmt = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        with recorder.recording() as events, engine.begin() as conn:
            ids = conn.execute(stmt, [{"v": 1}, {"v": 2}]).scalars().all()
        (batch,) = [e for e in events if e[0] == "sql"]
        _tag, sql, params, many, rows, _idx = batch
        assert "VALUES" in sql and isinstance(params, dict) and many is False
        assert [r[0] for r in rows] == ids and len(ids) == 2
