"""The measured part of the HTTP benchmark: the three servers under gunicorn, and the wrk runs.

Idmaj (``idmaj``) and its two bare twins (bench/http/twin.py): ``twin`` (Flask + psycopg, the
stricter ceiling) and ``twin_sa`` (Flask + SQLAlchemy, the issue's twin), two sync workers
each, each on its own port and with its own ``application_name`` (``bench-<label>``, matched
exactly by :class:`PgCpu`). For each round, path and concurrency, wrk runs against the three
one after the other (interleaved), each server booking for families of its own.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.http import load, report
from bench.http.load import nth_request

ROOT = Path(__file__).resolve().parents[2]
PATHS = ["profile", "search", "booking", "deposit", "family_page"]
IDMAJ_PORT = 18431  # the twins' ports follow
LABELS = ["idmaj", "twin", "twin_sa"]  # the order of the servers, in each run
TWIN_LAYERS = {"twin": "psycopg", "twin_sa": "sqlalchemy"}  # BENCH_TWIN_LAYER of each twin


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def families_apart(
    specs: dict[str, dict[str, Any]], labels: list[str]
) -> dict[str, dict[str, dict[str, Any]]]:
    """The specs each server is driven with: the booking families split in as many disjoint
    parts as there are servers, one for Idmaj and one for each twin. A twin replays the
    captured booking's SQL, whose quota week is the capture's: had two servers booked for the
    same detainees, the twin's bookings would have used up those detainees' quota of that week,
    and Idmaj's later bookings there would have been refused (422) — cheap answers that
    flatter Idmaj's throughput."""
    booking = specs["booking"]
    size = len(booking["rns"]) // len(labels)
    if size < 1:
        raise ValueError(f"at least {len(labels)} booking families are needed")
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for k, label in enumerate(labels):
        part = slice(k * size, (k + 1) * size)
        out[label] = {
            **specs,
            "booking": {
                **booking,
                "rns": booking["rns"][part],
                "tokens": booking["tokens"][part],
            },
        }
    return out


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
                "--no-control-socket",  # three servers, and maybe others' tests, on one machine
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
                pass  # not listening yet: ask again after a pause
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


def start_servers(
    port: int, cfg_file: Path, cap_file: Path, db_url: Any, logs: Path, started: list[Server]
) -> None:
    """Idmaj on ``port``, the twins on the next ports (LABELS' order); each server is appended
    to ``started`` as soon as its process runs, for the caller to stop them all."""
    started.append(
        Server(
            "idmaj",
            "bench.http.idmaj_app:create()",
            port,
            {"BENCH_IDMAJ_CONFIG": str(cfg_file)},
            logs,
        )
    )
    for k, label in enumerate(LABELS[1:], start=1):
        dsn = (
            db_url.set(drivername="postgresql")
            .update_query_dict({"application_name": f"bench-{label}"})
            .render_as_string(hide_password=False)
        )
        env = {
            "BENCH_TWIN_CAPTURES": str(cap_file),
            "BENCH_TWIN_LAYER": TWIN_LAYERS[label],
            "BENCH_TWIN_DSN": dsn,
        }
        started.append(Server(label, "bench.http.twin:create()", port + k, env, logs))


def request(server: Server, method: str, url: str, headers: dict, body: bytes) -> tuple[int, bytes]:
    req = urllib.request.Request(server.url + url, data=body or None, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def free_ports(count: int = len(LABELS)) -> int:
    """A port p such that p … p + count - 1 are free on 127.0.0.1 (Idmaj and its twins)."""
    import socket

    for candidate in [IDMAJ_PORT, *random.sample(range(20000, 40000, count), 50)]:
        socks = [socket.socket() for _ in range(count)]
        try:
            for k, sock in enumerate(socks):
                sock.bind(("127.0.0.1", candidate + k))
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
        return candidate
    raise SystemExit(f"no {count} free ports in a row on 127.0.0.1")


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
        # equality, never a prefix: bench-twin must not count bench-twin_sa's backends
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (app_name,)
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------------------------
# the runs
# --------------------------------------------------------------------------------------------


def warm_up(servers: list[Server], specs: dict[str, dict[str, Any]]) -> int:
    """Each path a few times on each server: a success, and a first request per worker.
    Returns the last request index used."""
    warm_i = 100  # requests 0-3 were the captures' own
    for name in PATHS:
        for server in servers:
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
    return warm_i


def one_run(
    server: Server, pg: PgCpu, lua: str, lua_path: Path, conc: int, seconds: float
) -> tuple[dict[str, Any], load.WrkResult]:
    from bench.http.data import autovacuum_step

    done = autovacuum_step(pg.conn)  # what autovacuum would have done by now (it is off here)
    if done:
        log(f"  before {server.label}'s run: " + ", ".join(done))
    before = load.cpu_seconds(server.pids())
    pg_before = load.cpu_seconds(pg.pids(f"bench-{server.label}"))
    res = load.run_wrk(server.url, lua, lua_path, connections=conc, seconds=seconds)
    cpu = load.cpu_seconds(server.pids()) - before
    pg_cpu = load.cpu_seconds(pg.pids(f"bench-{server.label}")) - pg_before
    n = max(1, res.requests)
    return {
        "rps": res.rps,
        "p50": res.p50_ms,
        "p99": res.p99_ms,
        "cpu_ms": cpu * 1000 / n,
        "pg_ms": pg_cpu * 1000 / n,
        "bad": res.bad + res.socket_errors,
        "statuses": res.statuses,
        "first_bad": res.first_bad,
        "requests": res.requests,
    }, res


def log_row(row: dict[str, Any]) -> None:
    i_ = row["idmaj"]
    parts = [
        f"round {row['round']} {row['path']:12s} c{row['conc']:<3d} idmaj {i_['rps']:7.1f} req/s "
        f"(p50 {i_['p50']:.1f} p99 {i_['p99']:.1f} ms, {i_['cpu_ms']:.1f} ms CPU)"
    ]
    for label in LABELS[1:]:
        t_ = row[label]
        parts.append(f"{label} {t_['rps']:7.1f} req/s ({t_['cpu_ms']:.1f} ms CPU)")
    parts.append(
        ", ".join(
            f"idmaj/{label} {i_['rps'] / max(row[label]['rps'], 0.001):.0%}"
            for label in reversed(LABELS[1:])  # the goal's ratio (SQLAlchemy twin) first
        )
    )
    bad = [label for label in LABELS if row[label]["bad"]]
    if bad:
        parts.append(
            " !! non-2xx/errors: "
            + ", ".join(f"{lab} {row[lab]['bad']} ({row[lab]['statuses']})" for lab in bad)
        )
        for lab in bad:
            for first in row[lab].get("first_bad", [])[:1]:
                parts.append(f"\n    {lab}'s first refusal: {first}")
    log(" ".join(parts))


def measure_servers(
    args: argparse.Namespace,
    tmp: Path,
    specs: dict[str, dict[str, Any]],
    db_url: Any,
    cap_file: Path,
    cfg_file: Path,
) -> dict[str, Any]:
    """Start the three servers, warm them up, run the rounds and the interleaved mix (for
    Idmaj's memory), stop them. ``db_url``: the benchmark database's SQLAlchemy URL."""
    logs = tmp / "logs"
    logs.mkdir()
    port = args.port or free_ports()
    pg = PgCpu(db_url.set(drivername="postgresql").render_as_string(hide_password=False))
    servers: list[Server] = []
    results: list[dict[str, Any]] = []
    memory: dict[str, Any] = {}
    errors: dict[str, list[tuple[str, int]]] = {}
    try:
        start_servers(port, cfg_file, cap_file, db_url, logs, servers)
        for server in servers:
            server.wait()
        idmaj = servers[0]
        warm_i = warm_up(servers, specs)
        memory["warm"] = [round(load.rss_mb(p), 1) for p in idmaj.workers()]
        log(f"Idmaj workers' RSS after warm-up: {memory['warm']} MB")

        booking_offset = warm_i + 10
        driven = families_apart(specs, LABELS)
        for rnd in range(1, args.rounds + 1):
            for name in args.paths:
                for conc in args.concurrency:
                    row: dict[str, Any] = {"round": rnd, "path": name, "conc": conc}
                    next_offset = booking_offset
                    for server in servers:
                        offset = booking_offset if name == "booking" else 0
                        lua = load.script(
                            [name], driven[server.label], offset, f"r{rnd}-{server.label}-{conc}"
                        )
                        row[server.label], res = one_run(
                            server, pg, lua, tmp / f"{name}.lua", conc, args.seconds
                        )
                        if name == "booking":  # never an index (family, slot) used before
                            next_offset = max(
                                next_offset,
                                booking_offset + res.requests + 4 * conc,
                                res.next_index,
                            )
                    booking_offset = next_offset
                    results.append(row)
                    log_row(row)

        memory.update(mixed_memory(args, tmp, idmaj, driven["idmaj"], results, booking_offset))
        errors = {s.label: server_errors(s.log_path) for s in servers}
        for label, found in errors.items():
            for line, count in found:
                log(f"  {label} logged {count}x: {line}")
    finally:
        pg.close()
        for server in servers:
            server.stop()
    return {"results": results, "memory": memory, "errors": errors}


def mixed_memory(
    args: argparse.Namespace,
    tmp: Path,
    idmaj: Server,
    specs: dict[str, dict[str, Any]],
    results: list[dict[str, Any]],
    booking_offset: int,
) -> dict[str, Any]:
    """Idmaj's RSS once it has answered at least --mixed requests: the rounds' (each path in
    turn) and a mix of the five paths interleaved."""
    served = sum(r["idmaj"]["requests"] for r in results)
    mixed, mixed_bad, chunk = 0, 0, 0
    target_mixed = max(args.mixed // 10, args.mixed - served)
    log(f"memory: Idmaj answered {served:,} requests in the rounds; {target_mixed:,} mixed more")
    deadline = time.time() + report.MIX_SECONDS  # the run stays within its 15 minutes
    while mixed < target_mixed and time.time() < deadline:
        chunk += 1
        lua = load.script(PATHS, specs, booking_offset * len(PATHS), f"mixed{chunk}")
        res = load.run_wrk(idmaj.url, lua, tmp / "mixed.lua", connections=4, seconds=10)
        mixed += res.requests
        mixed_bad += res.bad + res.socket_errors
        booking_offset = max(
            booking_offset + res.requests // len(PATHS) + 20,
            res.next_index // len(PATHS) + 1,
        )
    out = {
        "mixed": [round(load.rss_mb(p), 1) for p in idmaj.workers()],
        "mixed_requests": served + mixed,
        "interleaved": mixed,
        "mixed_bad": mixed_bad,
    }
    log(f"Idmaj workers' RSS after {served + mixed:,} requests: {out['mixed']} MB")
    return out
