"""The HTTP benchmark against bare twins (issue 16 points 1 and 5).

    python -m bench.http [--detainees 100000] [--rounds 3] [--seconds 10] [--quick]
                         [--label before|after] [--no-write]

Seeds a new PostgreSQL database (on ``IDMAJ_TEST_DATABASE_URL``'s server, dropped at the end)
with bench/run.py's detainees and what the hot paths need (bench/http/data.py); captures the SQL
each hot path issues (bench/http/capture.py); starts Idmaj (every installed module) and its bare
twin (bench/http/twin.py) under gunicorn, two sync workers each; then, interleaved, for each
round, path and concurrency (4 and 16), runs wrk against Idmaj then against the twin. Prints the
table and rewrites the section "HTTP cost against bare twins" of docs/performance.md, keeping
the other label's table (``--label before`` once, ``--label after`` after optimising).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import pickle
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bench.http import load, report
from bench.http.capture import Capture, Recorder, find_fresh

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["profile", "search", "booking", "deposit", "family_page"]
TITLES = {
    "profile": "profile page `GET /detainees/<rn>`",
    "search": "search `GET /api/v1/detainees?q=`",
    "booking": "booking `POST /api/v1/visits/bookings`",
    "deposit": "deposit `POST /api/v1/funds/accounts/<rn>/deposits`",
    "family_page": "families' booking page `GET /visits/book`",
}
IDMAJ_PORT, TWIN_PORT = 18431, 18432
DEPOSIT_BODY = '{"amount":"10.00","source":"cash","memo":"bench"}'


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


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


def families_apart(specs: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """The specs each server is driven with: the booking families split in two halves, one
    for Idmaj and one for its twin. The twin replays the captured booking's SQL, whose quota
    week is the capture's: had both booked for the same detainees, the twin's bookings would
    have used up those detainees' quota of that week, and Idmaj's later bookings there would
    have been refused (422) — cheap answers that flatter Idmaj's throughput."""
    booking = specs["booking"]
    half = len(booking["rns"]) // 2
    if half < 1:
        raise ValueError("at least two booking families are needed")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for label, part in (("idmaj", slice(0, half)), ("twin", slice(half, 2 * half))):
        out[label] = {
            **specs,
            "booking": {
                **booking,
                "rns": booking["rns"][part],
                "tokens": booking["tokens"][part],
            },
        }
    return out


def nth_request(spec: dict[str, Any], i: int, key_prefix: str) -> tuple[str, str, dict, bytes]:
    """The i-th request of a path, as the Lua scripts build it (method, url, headers, body)."""
    if spec["kind"] == "get":
        return "GET", spec["urls"][i % len(spec["urls"])], dict(spec["headers"]), b""
    if spec["kind"] == "booking":
        p = i % len(spec["rns"])
        j = (i // len(spec["rns"])) % len(spec["slots"])
        body = json.dumps({"slot_id": spec["slots"][j], "detainee": spec["rns"][p]})
        headers = {
            "Authorization": f"Bearer {spec['tokens'][p]}",
            "Content-Type": "application/json",
        }
        return "POST", spec["path"], headers, body.encode()
    rn = spec["rns"][i % len(spec["rns"])]
    headers = {
        "Authorization": f"Bearer {spec['token']}",
        "Content-Type": "application/json",
        "Idempotency-Key": f"{key_prefix}-{i}",
    }
    return "POST", f"/api/v1/funds/accounts/{rn}/deposits", headers, spec["body"].encode()


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
# servers
# --------------------------------------------------------------------------------------------


class Server:
    def __init__(self, label: str, target: str, port: int, env: dict[str, str], logs: Path):
        self.label, self.port = label, port
        self.log_path = logs / f"{label}.log"
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.proc = subprocess.Popen(
            [
                str(gunicorn),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--error-logfile",
                str(self.log_path),
                "--no-control-socket",  # two servers, and maybe others' tests, on one machine
                target,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 120) -> None:
        end = time.time() + timeout
        while time.time() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.label} exited; see {self.log_path}:\n{self.tail()}")
            try:
                urllib.request.urlopen(self.url + "/__bench_ready", timeout=5)
            except urllib.error.HTTPError:
                if len(self.workers()) >= 2:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise SystemExit(f"{self.label} did not answer in {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return "\n".join(self.log_path.read_text().splitlines()[-30:])
        except OSError:
            return ""

    def workers(self) -> list[int]:
        return load.children(self.proc.pid)

    def pids(self) -> list[int]:
        return [self.proc.pid, *self.workers()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def request(server: Server, method: str, url: str, headers: dict, body: bytes) -> tuple[int, bytes]:
    req = urllib.request.Request(server.url + url, data=body or None, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


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


def free_port_pair() -> int:
    """A port p such that p and p + 1 are free on 127.0.0.1 (Idmaj and its twin)."""
    import socket

    for candidate in [IDMAJ_PORT, *random.sample(range(20000, 40000, 2), 50)]:
        try:
            with socket.socket() as a, socket.socket() as b:
                a.bind(("127.0.0.1", candidate))
                b.bind(("127.0.0.1", candidate + 1))
        except OSError:
            continue
        return candidate
    raise SystemExit("no two free ports in a row on 127.0.0.1")


def server_errors(path: Path) -> list[tuple[str, int]]:
    """The exceptions a server logged (their last traceback line), most frequent first."""
    counts: dict[str, int] = {}
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return []
    for line in lines:
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Violation|Failure)\b", line):
            counts[line[:300]] = counts.get(line[:300], 0) + 1
    return sorted(counts.items(), key=lambda kv: -kv[1])[:8]


class PgCpu:
    """CPU of the PostgreSQL backends serving one application_name (same machine only)."""

    def __init__(self, admin_dsn: str) -> None:
        import psycopg

        self.conn = psycopg.connect(admin_dsn, autocommit=True)

    def pids(self, app_name: str) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app_name,)
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.conn.close()


def measure(args: argparse.Namespace, tmp: Path, url: str) -> dict[str, Any]:
    from sqlalchemy.engine import make_url

    from bench.http.data import seed_hot_paths, sign_in
    from bench.run import make_queries, seed
    from core.app import create_app
    from core.testing import build_migrated_app

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    log(f"migrating and seeding {args.detainees:,} detainees")
    setup_app = build_migrated_app(url, tmp / "setup", RATELIMIT_ENABLED=False)
    try:
        seeded = seed(setup_app, args.detainees, rng, lambda m: None)
        data = seed_hot_paths(setup_app, families=args.families, deposit_accounts=100)
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

    specs = specs_for(data, queries)
    log("capturing the SQL of each path")
    capture_app = create_app(config)
    plugins = [i.name for i in capture_app.extensions["idmaj.plugins"].plugin_infos()]
    captures = capture_all(capture_app, specs, deposit_warm=len(data.deposit_rns))
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

    twin_dsn = sa_url.set(drivername="postgresql").render_as_string(hide_password=False)
    logs = tmp / "logs"
    logs.mkdir()
    port = args.port or free_port_pair()
    idmaj = Server(
        "idmaj",
        "bench.http.idmaj_app:create()",
        port,
        {"BENCH_IDMAJ_CONFIG": str(cfg_file)},
        logs,
    )
    twin = Server(
        "twin",
        "bench.http.twin:create()",
        port + 1,
        {
            "BENCH_TWIN_CAPTURES": str(cap_file),
            "BENCH_TWIN_DSN": twin_dsn + "?application_name=bench-twin",
        },
        logs,
    )
    pg = PgCpu(sa_url.set(drivername="postgresql").render_as_string(hide_password=False))
    results: list[dict[str, Any]] = []
    memory: dict[str, Any] = {}
    errors: dict[str, list[tuple[str, int]]] = {}
    try:
        idmaj.wait()
        twin.wait()
        # each path once on each server: same status, and a first request per worker
        warm_i = 100  # requests 0-3 were the captures' own
        for name in PATHS:
            for server in (idmaj, twin):
                for _k in range(4):
                    warm_i += 1
                    status, body = request(
                        server, *nth_request(specs[name], warm_i, f"warm-{server.label}")
                    )
                    if not 200 <= status < 300:
                        raise SystemExit(
                            f"{server.label}: {name} answered HTTP {status}:\n"
                            f"{body[:600].decode(errors='replace')}\n{server.tail()}"
                        )
        memory["warm"] = [round(load.rss_mb(p), 1) for p in idmaj.workers()]
        log(f"Idmaj workers' RSS after warm-up: {memory['warm']} MB")

        booking_offset = warm_i + 10
        driven = families_apart(specs)
        for rnd in range(1, args.rounds + 1):
            for name in args.paths:
                for conc in args.concurrency:
                    row: dict[str, Any] = {"round": rnd, "path": name, "conc": conc}
                    for server in (idmaj, twin):
                        offset = booking_offset if name == "booking" else 0
                        lua = load.script(
                            [name], driven[server.label], offset, f"r{rnd}-{server.label}-{conc}"
                        )
                        before = load.cpu_seconds(server.pids())
                        pg_pids = pg.pids(f"bench-{server.label}")
                        pg_before = load.cpu_seconds(pg_pids)
                        res = load.run_wrk(
                            server.url,
                            lua,
                            tmp / f"{name}.lua",
                            connections=conc,
                            seconds=args.seconds,
                        )
                        cpu = load.cpu_seconds(server.pids()) - before
                        pg_pids2 = pg.pids(f"bench-{server.label}")
                        pg_cpu = load.cpu_seconds(pg_pids2) - pg_before
                        if name == "booking":  # never an index (family, slot) used before
                            booking_offset = max(
                                booking_offset + res.requests + 4 * conc, res.next_index
                            )
                        n = max(1, res.requests)
                        row[server.label] = {
                            "rps": res.rps,
                            "p50": res.p50_ms,
                            "p99": res.p99_ms,
                            "cpu_ms": cpu * 1000 / n,
                            "pg_ms": pg_cpu * 1000 / n,
                            "bad": res.bad + res.socket_errors,
                            "statuses": res.statuses,
                            "requests": res.requests,
                        }
                    results.append(row)
                    i_, t_ = row["idmaj"], row["twin"]
                    flag = ""
                    if i_["bad"] or t_["bad"]:
                        flag = (
                            f"  !! non-2xx/errors: idmaj {i_['bad']} ({i_['statuses']}), "
                            f"twin {t_['bad']} ({t_['statuses']})"
                        )
                    log(
                        f"round {rnd} {name:12s} c{conc:<3d} idmaj {i_['rps']:7.1f} req/s "
                        f"(p50 {i_['p50']:.1f} p99 {i_['p99']:.1f} ms, {i_['cpu_ms']:.1f} ms CPU) "
                        f"twin {t_['rps']:7.1f} req/s ({t_['cpu_ms']:.1f} ms CPU) "
                        f"ratio {i_['rps'] / max(t_['rps'], 0.001):.0%}{flag}"
                    )

        # memory: after warm-up (above) and once Idmaj has answered at least --mixed requests,
        # the rounds' (each path in turn) and a mix of the five paths interleaved
        served = sum(r["idmaj"]["requests"] for r in results)
        mixed, mixed_bad, chunk = 0, 0, 0
        target_mixed = max(args.mixed // 10, args.mixed - served)
        log(
            f"memory: Idmaj answered {served:,} requests in the rounds; {target_mixed:,} mixed more"
        )
        deadline = time.time() + report.MIX_SECONDS  # the run stays within its 15 minutes
        while mixed < target_mixed and time.time() < deadline:
            chunk += 1
            lua = load.script(PATHS, driven["idmaj"], booking_offset * len(PATHS), f"mixed{chunk}")
            res = load.run_wrk(idmaj.url, lua, tmp / "mixed.lua", connections=4, seconds=10)
            mixed += res.requests
            mixed_bad += res.bad + res.socket_errors
            booking_offset = max(
                booking_offset + res.requests // len(PATHS) + 20,
                res.next_index // len(PATHS) + 1,
            )
        memory["mixed"] = [round(load.rss_mb(p), 1) for p in idmaj.workers()]
        memory["mixed_requests"] = served + mixed
        memory["interleaved"] = mixed
        memory["mixed_bad"] = mixed_bad
        log(f"Idmaj workers' RSS after {served + mixed:,} requests: {memory['mixed']} MB")
        errors = {s.label: server_errors(s.log_path) for s in (idmaj, twin)}
        for label, found in errors.items():
            for line, count in found:
                log(f"  {label} logged {count}x: {line}")
    finally:
        pg.close()
        idmaj.stop()
        twin.stop()
    return {
        "results": results,
        "memory": memory,
        "plugins": plugins,
        "fidelity": fidelity,
        "captures": {k: (c.statements, c.transactions) for k, c in captures.items()},
        "errors": errors,
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
        "--port", type=int, default=None, help="Idmaj's port, the twin's the next (default: free)"
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--output", type=Path, default=report.OUTPUT)
    parser.add_argument("--no-write", action="store_true", help="only print the table")
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
