"""The HTTP benchmark against bare twins (issue 16 points 1 and 5).

    python -m bench.http [--detainees 100000] [--rounds 3] [--seconds 10] [--quick]
                         [--label before|after] [--no-write]

Seeds a new PostgreSQL database (on ``IDMAJ_TEST_DATABASE_URL``'s server, dropped at the end)
with bench/run.py's detainees and what the hot paths need (bench/http/data.py); captures the SQL
each hot path issues (bench/http/capture.py); starts Idmaj (every installed module) and its two
bare twins (bench/http/twin.py: Flask + psycopg, Flask + SQLAlchemy) under gunicorn, two sync
workers each; then, interleaved, for each round, path and concurrency (4 and 16), runs wrk
against Idmaj, the psycopg twin and the SQLAlchemy twin, one after the other (bench/http/run.py).
Prints the tables and rewrites the section "HTTP cost against bare twins" of
docs/performance.md, keeping the other label's tables (``--label before`` once, ``--label
after`` after optimising).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import random
import secrets
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from bench.http import load, report, run
from bench.http.capture import Capture, Recorder, find_fresh
from bench.http.load import nth_request
from bench.http.run import PATHS, log

DEPOSIT_BODY = '{"amount":"10.00","source":"cash","memo":"bench"}'


# --------------------------------------------------------------------------------------------
# setup
# --------------------------------------------------------------------------------------------


def specs_for(data: Any, queries: list[str]) -> dict[str, dict[str, Any]]:
    q_urls = ["/api/v1/detainees?q=" + urllib.parse.quote(q) for q in queries]
    return {
        "profile": {
            "kind": "get",
            "urls": [f"/detainees/{rn}" for rn in data.profile_rns],
            "headers": {"Cookie": data.staff_cookie},
        },
        "search": {
            "kind": "get",
            "urls": q_urls,
            "headers": {"Authorization": f"Bearer {data.admin_token}"},
        },
        "booking": {
            "kind": "booking",
            "path": "/api/v1/visits/bookings",
            "tokens": data.booking_tokens,
            "rns": data.booking_rns,
            "slots": data.slot_ids,
        },
        "deposit": {
            "kind": "deposit",
            "rns": data.deposit_rns,
            "token": data.accountant_token,
            "body": DEPOSIT_BODY,
        },
        "family_page": {
            "kind": "get",
            "urls": [f"/visits/book?detainee={data.family_rn}"],
            "headers": {"Cookie": data.family_cookie},
        },
    }


def capture_all(
    app: Any, specs: dict[str, dict[str, Any]], deposit_warm: int
) -> dict[str, Capture]:
    """Every GET url captured once (after one warm-up request); each write twice (after two
    warm-ups), the two compared to find the values generated per request."""
    from bench.http.twin import WRITES, write_variables

    recorder = Recorder(app.extensions["idmaj.db"].engine)
    client = app.test_client(use_cookies=False)  # the Cookie headers are sent as given

    def call(method: str, url: str, headers: dict, body: bytes) -> Any:
        return client.open(url, method=method, headers=headers, data=body)

    def check(name: str, resp: Any, url: str) -> None:
        if not 200 <= resp.status_code < 300:
            raise SystemExit(
                f"{name}: {url} answered HTTP {resp.status_code}, not a success; the benchmark "
                f"does not measure error pages.\n{resp.get_data(as_text=True)[:800]}"
            )

    def one(name: str, method: str, url: str, headers: dict, body: bytes, variables: dict):
        with recorder.recording() as events:
            resp = call(method, url, headers, body)
        check(name, resp, url)
        return Capture(
            name=name,
            events=list(events),
            variables=variables,
            status=resp.status_code,
            headers=[(k, v) for k, v in resp.headers.items()],
            body=resp.get_data(),
            at=dt.datetime.now(dt.UTC),
        )

    captures: dict[str, Capture] = {}
    # deposits land on existing accounts in the benchmark: open them first
    for i in range(deposit_warm):
        resp = call(*nth_request(specs["deposit"], i, "open"))
        check("deposit", resp, "deposit (opening accounts)")
    for name in PATHS:
        spec = specs[name]
        if spec["kind"] == "get":
            for url in spec["urls"]:
                check(name, call("GET", url, spec["headers"], b""), url)
                cap = one(name, "GET", url, spec["headers"], b"", {"url": url})
                captures["GET " + url] = cap
            continue
        pattern = dict(WRITES)[name]
        caps = []
        for i in range(4):  # requests 0-3 of the path: two warm-ups, two captures
            method, url, headers, body = nth_request(spec, i, "capture")
            if i < 2:
                check(name, call(method, url, headers, body), url)
                continue
            match = pattern.match(url)
            variables = write_variables(name, match, headers, body)
            caps.append(one(name, method, url, headers, body, variables))
        find_fresh(caps[0], caps[1])
        captures[name] = caps[0]
    return captures


# --------------------------------------------------------------------------------------------
# the run
# --------------------------------------------------------------------------------------------


def dump(captures: dict[str, Capture], directory: Path) -> None:
    """The captures as text, one file per path: what the twin replays, statement by statement."""
    directory.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list[str]] = {}
    for key, cap in captures.items():
        out = by_name.setdefault(cap.name, [])
        out.append(f"=== {key}  variables={cap.variables!r}  HTTP {cap.status}, {len(cap.body)} B")
        for note in cap.notes:
            out.append(f"NOTE {note}")
        for i, ev in enumerate(cap.events):
            if ev[0] != "sql":
                out.append(f"-- {ev[0].upper()}")
                continue
            fresh = {k: v for (j, k), v in cap.fresh.items() if j == i}
            out.append(f"-- [{i}] {'executemany ' if ev[3] else ''}fresh={fresh or ''}")
            out.append(ev[1].strip())
            out.append(f"   params: {ev[2]!r}"[:2000])
        out.append("")
    for name, lines in by_name.items():
        (directory / f"{name}.sql.txt").write_text("\n".join(lines), encoding="utf-8")
    log(f"captures written to {directory}")


def prepare(
    args: argparse.Namespace, tmp: Path, url: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Migrate and seed the database at ``url`` (``args.detainees``, ``args.families``,
    ``args.seed``), sign the benchmark's users in: Idmaj's settings and each path's requests
    (also used by ``python -m bench.instructions``)."""
    from sqlalchemy.engine import make_url

    from bench.http.data import analyze, seed_hot_paths, sign_in, spread_ids
    from bench.run import make_queries, seed
    from core.app import create_app
    from core.testing import build_migrated_app

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    log(f"migrating and seeding {args.detainees:,} detainees")
    setup_app = build_migrated_app(url, tmp / "setup", RATELIMIT_ENABLED=False)
    try:
        spread_ids(setup_app)
        seeded = seed(setup_app, args.detainees, rng, lambda m: None)
        data = seed_hot_paths(setup_app, families=args.families, deposit_accounts=100)
        analyze(setup_app)
    finally:
        setup_app.extensions["idmaj.db"].dispose()
    queries = [q for _k, q, _t in make_queries(seeded.people, 10, rng)]
    log(f"seeded in {time.perf_counter() - t0:.0f} s")

    sa_url = make_url(url)
    config = {
        "DATABASE_URL": sa_url.update_query_dict(
            {"application_name": "bench-idmaj"}
        ).render_as_string(hide_password=False),
        "SECRET_KEY": secrets.token_urlsafe(32),
        "AUDIT_KEY": secrets.token_urlsafe(32),
        "INSTANCE_PATH": str(tmp / "instance"),
        "TASKS_FILE": str(tmp / "tasks.db"),
        "AUDIT_ANCHOR_FILE": str(tmp / "audit-anchors.jsonl"),
    }
    (tmp / "instance").mkdir(exist_ok=True)
    login_app = create_app({**config, "WTF_CSRF_ENABLED": False})
    data.staff_cookie = sign_in(login_app, "bench.admin")
    data.family_cookie = sign_in(login_app, "bench.family")
    login_app.extensions["idmaj.db"].dispose()

    return config, specs_for(data, queries)


def measure(args: argparse.Namespace, tmp: Path, url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    from core.app import create_app

    config, specs = prepare(args, tmp, url)
    sa_url = make_url(url)
    log("capturing the SQL of each path")
    capture_app = create_app(config)
    plugins = [i.name for i in capture_app.extensions["idmaj.plugins"].plugin_infos()]
    captures = capture_all(capture_app, specs, deposit_warm=len(specs["deposit"]["rns"]))
    capture_app.extensions["idmaj.db"].dispose()
    cap_file = tmp / "captures.pickle"
    cap_file.write_bytes(pickle.dumps(captures))
    cfg_file = tmp / "idmaj-config.json"
    cfg_file.write_text(json.dumps(config), encoding="utf-8")
    if args.dump:
        dump(captures, args.dump)
    fidelity = report.fidelity(captures, PATHS)
    for line in fidelity:
        log("  " + line)

    measured = run.measure_servers(args, tmp, specs, sa_url, cap_file, cfg_file)
    return {
        **measured,
        "plugins": plugins,
        "fidelity": fidelity,
        "captures": {k: (c.statements, c.transactions) for k, c in captures.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--detainees", type=int, default=None, help="default 100000 (--quick: 20000)"
    )
    parser.add_argument("--rounds", type=int, default=None, help="default 3 (--quick: 1)")
    parser.add_argument(
        "--seconds", type=float, default=None, help="per run; default 10 (--quick: 3)"
    )
    parser.add_argument(
        "--concurrency", type=lambda s: [int(x) for x in s.split(",")], default=[4, 16]
    )
    parser.add_argument(
        "--mixed",
        type=int,
        default=None,
        help="requests Idmaj answers before the second RSS reading; default 10000 (--quick: 1000)",
    )
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument(
        "--paths",
        type=lambda s: s.split(","),
        default=PATHS,
        help="comma-separated subset of " + ",".join(PATHS),
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run")
    parser.add_argument(
        "--label", default="after", help="the table's name in the document (before/after)"
    )
    parser.add_argument(
        "--note", default="", help="a sentence on the machine's load, put in the document"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="Idmaj's port, the twins' the next two (default: free)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=report.OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="only print the tables")
    parser.add_argument("--dump", type=Path, help="write the captured SQL there, one file a path")
    args = parser.parse_args(argv)
    q = args.quick
    args.detainees = args.detainees if args.detainees is not None else (20_000 if q else 100_000)
    args.rounds = args.rounds if args.rounds is not None else (1 if q else 3)
    args.seconds = args.seconds if args.seconds is not None else (3.0 if q else 10.0)
    args.mixed = args.mixed if args.mixed is not None else (1000 if q else 10_000)

    load.ensure_wrk()
    from bench.run import temporary_database

    started = time.time()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="idmaj-bench-http-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "setup").mkdir()
        with temporary_database("postgresql", tmp) as url:
            out = measure(args, tmp, url)
    out["args"] = args
    out["elapsed"] = time.time() - started
    out["loadavg"] = (load_before, os.getloadavg())
    table = report.render(out, args.label)
    print(table)
    if not args.no_write:
        report.write(args.output, args.label, table)
        log(f"wrote {args.output} (section '{report.HEADING}', table '{args.label}')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
