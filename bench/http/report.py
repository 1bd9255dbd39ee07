"""The table, and the section of docs/performance.md it goes to (other labels' tables and the
hand-written notes of the section are kept)."""

from __future__ import annotations

import json
import os
import re
import statistics
import time
from pathlib import Path
from typing import Any

from bench.http.capture import Capture

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "performance.md"
HEADING = "## HTTP cost against bare twins"
GOALS = {"profile": 0.5, "booking": 0.5}  # Idmaj's share of its SQLAlchemy twin's req/s
RSS_GOAL_MB = 150
MIX_SECONDS = 120  # the interleaved mix's limit (bench/http/__main__.py)
TITLES = {
    "profile": "profile page `GET /detainees/<rn>`",
    "search": "search `GET /api/v1/detainees?q=`",
    "booking": "booking `POST /api/v1/visits/bookings`",
    "deposit": "deposit `POST …/funds/accounts/<rn>/deposits`",
    "family_page": "families' booking page `GET /visits/book`",
}


def fidelity(captures: dict[str, Capture], paths: list[str]) -> list[str]:
    lines = []
    for name in paths:
        caps = [c for c in captures.values() if c.name == name]
        stmts = sorted({c.statements for c in caps})
        txs = sorted({c.transactions for c in caps})
        pings = sorted({sum(1 for e in c.events if e[0] == "ping") for c in caps})
        sizes = sorted({len(c.body) for c in caps})
        fresh = sorted({k for c in caps for k in c.fresh.values()})
        line = (
            f"{name}: {len(caps)} capture(s), {_span(stmts)} statements, {_span(txs)} "
            f"commit/rollback, {_span(pings)} pre-ping(s), body {_span(sizes)} bytes"
        )
        if fresh:
            n = sum(len(c.fresh) for c in caps)
            line += f", {n} parameter(s) drawn fresh per request ({', '.join(fresh)})"
        for c in caps:
            for note in c.notes:
                line += f"; NOTE {note}"
        lines.append(line)
    return lines


def _span(values: list[int]) -> str:
    if not values:
        return "0"
    return str(values[0]) if values[0] == values[-1] else f"{values[0]}–{values[-1]}"


SERVERS = ("idmaj", "twin", "twin_sa")  # Idmaj, the psycopg twin, the SQLAlchemy twin


def _med(rows: list[dict[str, Any]], server: str, key: str) -> float:
    return statistics.median(r[server][key] for r in rows)


def summarise(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per path and concurrency, over the rounds: each server's req/s, the ratios Idmaj/twin
    (``ratio``: the psycopg twin) and Idmaj/twin_sa (``ratio_sa``: the SQLAlchemy twin), and
    the medians of latency and CPU."""
    groups: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["path"], r["conc"]), []).append(r)
    out = []
    for (path, conc), rows in groups.items():
        row: dict[str, Any] = {"path": path, "conc": conc, "rounds": len(rows)}
        for s in SERVERS:
            row[f"{s}_rps"] = [r[s]["rps"] for r in rows]
            for k in ("p50", "p99", "cpu_ms", "pg_ms"):
                row[f"{s}_{k}"] = _med(rows, s, k)
            row[f"{s}_bad"] = sum(r[s]["bad"] for r in rows)
        for key, twin in (("ratio", "twin"), ("ratio_sa", "twin_sa")):
            ratios = [r["idmaj"]["rps"] / max(r[twin]["rps"], 1e-9) for r in rows]
            row[key] = statistics.median(ratios)
            row[f"{key}_range"] = (min(ratios), max(ratios))
        row["bad"] = sum(row[f"{s}_bad"] for s in SERVERS)
        out.append(row)
    return out


def _rng(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:.0f}" if round(lo) == round(hi) else f"{lo:.0f}–{hi:.0f}"


def machine() -> str:
    from bench.run import machine as m

    info = m()
    return f"{info['cpu']}, Python {info['python']}, SQLAlchemy {info['sqlalchemy']}"


def _ratio(r: dict[str, Any], key: str, bold: bool) -> str:
    text = f"**{r[key]:.0%}**" if bold else f"{r[key]:.0%}"
    lo, hi = r[f"{key}_range"]
    if r["rounds"] > 1:
        text += f" ({lo:.0%}–{hi:.0%})"
    return text


def render(out: dict[str, Any], label: str) -> str:
    args = out["args"]
    rows = summarise(out["results"])
    (l1, l5, _l15), (e1, e5, _e15) = out["loadavg"]
    conc = " and ".join(map(str, args.concurrency))
    lines = [
        f"<!-- bench-http:{label} -->",
        f"### {label} — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        f"`python -m bench.http --label {label}`"
        + (" --quick" if args.quick else "")
        + f": {args.detainees:,} detainees, {args.rounds} interleaved round(s) of "
        f"{args.seconds:g} s per run, wrk at concurrency {conc}, "
        f"gunicorn 2 sync workers each; modules loaded: {', '.join(out['plugins'])}. "
        f"{machine()}; load average {l1:.2f}/{l5:.2f} (1/5 min) at the start, "
        f"{e1:.2f}/{e5:.2f} at the end; run took {out['elapsed'] / 60:.1f} min."
        + (f" {args.note}" if args.note else ""),
        "",
    ]
    throughput = [
        "Throughput: the goals are checked against the SQLAlchemy twin (`twin_sa`, the issue's "
        "Flask + SQLAlchemy twin); the psycopg twin (`twin`) is the stricter ceiling.",
        "",
        "| path | conc. | Idmaj req/s | SQLAlchemy twin req/s | **Idmaj / SQLAlchemy twin** "
        "| psycopg twin req/s | Idmaj / psycopg twin (stricter ceiling) | non-2xx |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    latency = [
        "Latency and CPU per request (medians over the rounds):",
        "",
        "| path | conc. | Idmaj p50 / p99 ms | SQLAlchemy twin p50 / p99 ms "
        "| psycopg twin p50 / p99 ms | CPU ms/req (Idmaj / SQLAlchemy twin / psycopg twin) "
        "| PostgreSQL CPU ms/req (Idmaj / SQLAlchemy twin / psycopg twin) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    data: dict[str, Any] = {}
    for r in rows:
        goal = GOALS.get(r["path"])
        ratio_sa = _ratio(r, "ratio_sa", bold=True)
        if goal is not None:
            ratio_sa += " ✓" if r["ratio_sa"] >= goal else f" (goal ≥ {goal:.0%})"
        bad = ", ".join(f"{s} {r[f'{s}_bad']}" for s in SERVERS if r[f"{s}_bad"])
        head = f"| {TITLES[r['path']]} | {r['conc']} "
        throughput.append(
            f"{head}| {_rng(r['idmaj_rps'])} | {_rng(r['twin_sa_rps'])} | {ratio_sa} "
            f"| {_rng(r['twin_rps'])} | {_ratio(r, 'ratio', bold=False)} | {bad} |"
        )
        order = ("idmaj", "twin_sa", "twin")
        latency.append(
            head
            + "".join(f"| {r[f'{s}_p50']:.1f} / {r[f'{s}_p99']:.1f} " for s in order)
            + "| "
            + " / ".join(f"{r[f'{s}_cpu_ms']:.1f}" for s in order)
            + " | "
            + " / ".join(f"{r[f'{s}_pg_ms']:.1f}" for s in order)
            + " |"
        )
        data[f"{r['path']}/{r['conc']}"] = {
            "ratio": round(r["ratio"], 3),  # Idmaj / psycopg twin, as in the first blocks
            "ratio_sa": round(r["ratio_sa"], 3),
            "idmaj_rps": round(statistics.median(r["idmaj_rps"]), 1),
            "twin_rps": round(statistics.median(r["twin_rps"]), 1),
            "twin_sa_rps": round(statistics.median(r["twin_sa_rps"]), 1),
            "idmaj_cpu_ms": round(r["idmaj_cpu_ms"], 2),
        }
    lines += [*throughput, "", *latency]
    mem = out["memory"]
    warm, mixed = mem.get("warm", []), mem.get("mixed", [])
    worst = max(mixed or warm or [float("nan")])
    total, interleaved = mem.get("mixed_requests", 0), mem.get("interleaved", 0)
    lines += [
        "",
        "SQL per request (captured from the real path, replayed by both twins): "
        + "; ".join(out["fidelity"])
        + ".",
        "",
        f"Memory (RSS of each Idmaj gunicorn worker, every module loaded): after warm-up "
        f"{' / '.join(f'{x:.0f}' for x in warm)} MB; after {total:,} requests "
        f"({total - interleaved:,} in the rounds, path after path, then {interleaved:,} with "
        f"the five paths interleaved) {' / '.join(f'{x:.0f}' for x in mixed)} MB "
        f"(goal < {RSS_GOAL_MB} MB: {'yes' if worst < RSS_GOAL_MB else '**no**'})"
        + (f"; {mem['mixed_bad']} of them not 2xx" if mem.get("mixed_bad") else "")
        + (
            f" — fewer than the {args.mixed:,} asked: the interleaved mix stops after "
            f"{MIX_SECONDS} s (a slow machine)"
            if total < args.mixed
            else ""
        )
        + ".",
        "",
    ]
    for server, found in out.get("errors", {}).items():
        for line, count in found:
            lines.append(f"- **{server} logged {count}×**: `{line}`")
    if any(out.get("errors", {}).values()):
        lines.append("")
    lines += [
        f"<!-- bench-http-data {json.dumps({'label': label, 'rows': data, 'rss': mixed})} -->",
        f"<!-- /bench-http:{label} -->",
    ]
    return "\n".join(lines)


INTRO = """\
`make bench-http` (`python -m bench.http`, bench/http/) measures the five hot paths through real
HTTP against two *bare twins* of each: plain Flask apps (bench/http/twin.py) that send the same
SQL the real path sent — captured from Idmaj itself with SQLAlchemy's cursor events, not
written by hand — in the same transactions, and answer the same status, headers and bytes.
They differ only in what sends the statements:

- the **SQLAlchemy twin** (`twin_sa`) is the twin issue 16 defines, "a bare Flask + SQLAlchemy
  twin issuing the same SQL statements and rendering a page of the same size": one SQLAlchemy
  engine per worker (psycopg 3 driver, default pool, no pre-ping), a pooled connection checked
  out per request, every statement through `Connection.exec_driver_sql`, every row fetched.
  It pays for SQLAlchemy Core's connection, pool and result objects; it compiles no SQL (it
  sends the captured text) and has no ORM. **The goals are checked against this twin.**
- the **psycopg twin** (`twin`) sends the same statements through a psycopg cursor on one
  connection kept per worker: nothing between Flask and the driver. It is kept beside the
  other as the stricter ceiling; Idmaj/twin is below Idmaj/twin_sa by what SQLAlchemy Core's
  own machinery costs.

The three run under gunicorn (2 sync workers) on the same PostgreSQL database, interleaved run
by run (Idmaj, the psycopg twin, the SQLAlchemy twin, per path and concurrency), driven by wrk
with Lua scripts that vary the request (another detainee, registration number, slot, token,
idempotency key) so that writes never collide; each server books for families of its own.

How faithful the twins are: every statement, its text and its parameters, as the driver received
them, with the `SELECT 1` where Idmaj's pool pre-pinged and every COMMIT/ROLLBACK. GET paths
replay the exact capture of the URL asked (20 profiles, 10 searches, the family's page). Writes
replay one capture with values mapped: the request's own (registration number, slot, SHA-256 of
the bearer token, Idempotency-Key), every identifier a previous statement returned (columns
`id`, `…_id`: the twin's value at the same row and column; every table's identifiers start
in a range of their own, `bench.http.data.spread_ids`, so that one value never stands for two
things), and the values generated per
request (booking references, receipt numbers, names written into the audit, timestamps — found
by comparing two captures) drawn afresh with the same shape. `python -m bench.http --dump DIR`
writes what is replayed, statement by statement. Neither twin does ORM work, authentication or
permission logic beyond that SQL, audit or outbox Python, or task queue work; neither renders a
template or JSON: the "page of the same size" is the captured body sent as static bytes
(request values substituted) — rendering a constant template of that size would add a few tens
of microseconds a request, not enough to move a ratio.

Goals (benchmarks, never timed tests): profile page and booking at ≥ 50% of the SQLAlchemy
twin's throughput (Idmaj/twin_sa), same run, same machine — the issue's twin is Flask +
SQLAlchemy; the psycopg ratio beside it is never checked against the goal. A worker under 150 MB
RSS with every module loaded. CPU per request is the gunicorn processes' user+system time over
the run divided by the requests answered; PostgreSQL's is that of the backends of each app (by
application_name, matched exactly: `bench-idmaj`, `bench-twin`, `bench-twin_sa`).
"""


def write(path: Path, label: str, table: str) -> None:
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Performance\n"
    start = doc.find(HEADING)
    if start >= 0:
        nxt = doc.find("\n## ", start + len(HEADING))
        end = len(doc) if nxt < 0 else nxt + 1
        section = doc[start:end]
    else:
        start = end = len(doc)
        section = ""
    blocks = dict(
        (m.group(1), m.group(0))
        for m in re.finditer(
            r"<!-- bench-http:([\w.-]+) -->.*?<!-- /bench-http:\1 -->", section, re.S
        )
    )
    notes = re.search(r"<!-- bench-http-notes -->.*?<!-- /bench-http-notes -->", section, re.S)
    blocks[label] = table
    order = sorted(blocks, key=lambda k: (k != "before", k != "after", k))
    parts = [HEADING, "", INTRO, comparison(blocks, order), ""]
    for k in order:
        parts += [blocks[k], ""]
    parts.append(
        notes.group(0)
        if notes
        else "<!-- bench-http-notes -->\n### What each change bought\n\n(Written by hand after "
        "each optimisation: the change, and the ratios before and after it.)\n"
        "<!-- /bench-http-notes -->"
    )
    new_section = "\n".join(parts).rstrip() + "\n"
    if start == len(doc):
        doc = doc.rstrip("\n") + "\n\n" + new_section
    else:
        doc = doc[:start] + new_section + ("\n" if end < len(doc) else "") + doc[end:]
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(doc, encoding="utf-8")
    os.replace(tmp, path)


def comparison(blocks: dict[str, str], order: list[str]) -> str:
    """The ratios side by side, two columns per label: Idmaj/twin_sa (the SQLAlchemy twin, the
    goal's) and Idmaj/twin (the psycopg twin). Blocks written before the SQLAlchemy twin
    existed have no ``ratio_sa``: their first column is left blank."""
    data = {}
    for k in order:
        m = re.search(r"<!-- bench-http-data (.*?) -->", blocks[k])
        if m:
            data[k] = json.loads(m.group(1))
    if not data:
        return ""
    keys: list[str] = []
    for d in data.values():
        keys += [r for r in d["rows"] if r not in keys]
    labels = list(data)
    heads = [f"{lab}: Idmaj/{twin}" for lab in labels for twin in ("twin_sa", "twin")]
    lines = [
        "### Ratios Idmaj/twin (throughput), " + " and ".join(labels),
        "",
        "`twin_sa` is the SQLAlchemy twin (the goals' ceiling), `twin` the psycopg one (the "
        "stricter ceiling); in brackets, Idmaj's req/s against the twin's. The `twin_sa` cells "
        "of a label measured before the SQLAlchemy twin existed are blank.",
        "",
        "| path | conc. | " + " | ".join(heads) + " |",
        "| --- | ---: | " + " | ".join("---:" for _ in heads) + " |",
    ]
    for key in keys:
        path, conc = key.split("/")
        cells = []
        for lab in labels:
            row = data[lab]["rows"].get(key) or {}
            for ratio, rps in (("ratio_sa", "twin_sa_rps"), ("ratio", "twin_rps")):
                cells.append(
                    f"{row[ratio]:.0%} ({row['idmaj_rps']:.0f} vs {row[rps]:.0f} req/s)"
                    if ratio in row and rps in row
                    else ""
                )
        lines.append(f"| {TITLES.get(path, path)} | {conc} | " + " | ".join(cells) + " |")
    rss = [
        f"{lab}: {' / '.join(f'{x:.0f}' for x in data[lab].get('rss', []))} MB" for lab in labels
    ]
    lines += ["", "RSS per Idmaj worker at the end of the run — " + "; ".join(rss) + ".", ""]
    return "\n".join(lines)
