"""The HTTP benchmark's pure parts (bench/http): wrk output, SQL capture, replay mapping.
No timing is asserted here; the figures are the benchmark's (docs/performance.md)."""

from __future__ import annotations

import datetime as dt
import json
import random

from sqlalchemy import create_engine, text

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
BENCH_LAT 12500.0 29000.0 13270.0
"""


def test_parse_wrk_output() -> None:
    r = parse(WRK_OUTPUT)
    assert (r.requests, r.seconds, r.rps) == (3001, 10.01, 299.70)
    assert (r.p50_ms, r.p99_ms, r.mean_ms) == (12.5, 29.0, 13.27)
    assert (r.bad, r.socket_errors) == (7, 3)
    assert r.next_index == 3410
    assert r.statuses == "409=5 422=2"


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


def test_lua_script_defines_the_request_builder() -> None:
    specs = {"p": {"kind": "get", "urls": ["/a", "/b"], "headers": {"Cookie": 'c="1"'}}}
    lua = script(["p"], specs, 7, "x")
    assert "OFFSET = 7" in lua and "build = build_p" in lua and 'c=\\"1\\"' in lua
    # where the next run starts: after the last index any thread used, not after the count
    assert "BENCH_NEXT" in lua and "OFFSET + m * #threads" in lua


def test_idmaj_and_its_twin_book_for_families_of_their_own() -> None:
    from bench.http.__main__ import families_apart, nth_request

    specs = {
        "booking": {
            "kind": "booking",
            "path": "/api/v1/visits/bookings",
            "rns": [f"2026-00000{k}" for k in range(5)],
            "tokens": [f"t{k}" for k in range(5)],
            "slots": [11, 12],
        },
        "other": {"kind": "get", "urls": ["/a"], "headers": {}},
    }
    driven = families_apart(specs)
    assert driven["idmaj"]["other"] is specs["other"]
    seen = {label: set() for label in driven}
    for label, label_specs in driven.items():
        for i in range(40):
            _m, _url, headers, body = nth_request(label_specs["booking"], i, "k")
            seen[label].add((headers["Authorization"], json.loads(body)["detainee"]))
    assert len(seen["idmaj"]) == len(seen["twin"]) == 2
    assert not {rn for _t, rn in seen["idmaj"]} & {rn for _t, rn in seen["twin"]}
    # each family keeps its own token
    for pairs in seen.values():
        assert all(token[-1] == rn[-1] for token, rn in pairs)
