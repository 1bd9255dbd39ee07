"""Instructions per request on the hot paths, counted by valgrind's callgrind (issue 16).

    python -m bench.instructions [--detainees 20000] [--requests 40] [--paths profile,booking]
                                 [--source DIR]...

CPU time on this 2-core machine swings by half from one minute to the next, so a change worth
2 % cannot be seen in req/s or CPU ms. The number of instructions a request executes can: the
same total twice, whatever else the machine runs. This benchmark seeds a temporary PostgreSQL
database as ``bench.http`` does (fewer detainees by default), then, for each source tree
(``--source``, default this checkout; give a ``git worktree`` of an older commit as a second
one to compare) and each path, runs a child Python under ``valgrind --tool=callgrind
--instr-atstart=no``. The child builds the app from that tree, answers ``--warm`` requests of
the path uninstrumented (by default the families + 30: every family's signed-in principal is
then cached, as in a steady run), turns instrumentation on (``callgrind_control -i on``) for
``--requests`` more, and off. Printed: instructions per request (millions), and the change
against the first source. The database serves every run: writes use fresh keys.

Counts are of the whole process (Python, psycopg's C parts, libpq), not of PostgreSQL's
server, and through Flask's test client (no HTTP server). A ratio of instructions is not a
ratio of time (cache misses, system calls), but it moves with it, and it is exact.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from bench.http.run import PATHS, log

ROOT = Path(__file__).resolve().parent.parent
COLLECTED = re.compile(r"Collected\s*:\s*(\d+)")


def child(
    source: str, config_file: str, specs_file: str, path: str, warm: int, n: int, offset: int
) -> None:
    """Runs in the measured process: the app of ``source``, ``warm`` requests of ``path``,
    then ``n`` with callgrind's instrumentation on; request numbers start at ``offset`` (each
    run books other families and slots: a booking measured is a booking, not a 409).
    Self-contained (its source is sent to a child Python): an older tree without this module
    can be measured."""
    import json
    import os
    import pickle
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(source)
    sys.path[:0] = [str(root), *(str(p) for p in sorted((root / "packages").glob("*")))]
    os.chdir(root)
    from bench.http.load import nth_request
    from core.app import create_app

    config = json.loads(Path(config_file).read_text(encoding="utf-8"))
    spec = pickle.loads(Path(specs_file).read_bytes())[path]
    client = create_app(config).test_client(use_cookies=False)
    prefix = f"ic{time.time_ns()}"

    def one(i: int) -> None:
        if spec["kind"] == "get":
            resp = client.get(spec["urls"][i % len(spec["urls"])], headers=spec["headers"])
        else:
            method, url, headers, body = nth_request(spec, i, prefix)
            resp = client.open(url, method=method, headers=headers, data=body)
        if resp.status_code >= 400 and resp.status_code != 409:  # 409: a full slot
            raise SystemExit(f"{path}: HTTP {resp.status_code}: {resp.get_data()[:300]!r}")

    def toggle(state: str) -> None:
        subprocess.run(
            ["callgrind_control", "-i", state, str(os.getpid())], check=True, capture_output=True
        )

    for i in range(offset, offset + warm):
        one(i)
    toggle("on")
    for i in range(offset + warm, offset + warm + n):
        one(i)
    toggle("off")


def child_script(args: list[Any]) -> str:
    return textwrap.dedent(inspect.getsource(child)) + f"\nchild(*{args!r})\n"


def parse_collected(log_text: str) -> int:
    """The instructions callgrind collected (its ``Collected :`` line)."""
    found = COLLECTED.findall(log_text)
    if not found:
        raise ValueError("no 'Collected' line in callgrind's log")
    return int(found[-1])


def count(
    source: Path,
    files: tuple[Path, Path],
    path: str,
    warm: int,
    n: int,
    offset: int,
    tmp: Path,
) -> int:
    """Instructions of ``n`` requests of ``path`` (after ``warm``, numbered from ``offset``)
    by the app of ``source``; ``files``: the settings (JSON) and the paths' requests."""
    script = tmp / f"child-{path}.py"
    config_file, specs_file = files
    script.write_text(
        child_script([str(source), str(config_file), str(specs_file), path, warm, n, offset]),
        encoding="utf-8",
    )
    log_file = tmp / f"callgrind-{path}.log"
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={tmp / f'callgrind-{path}.out'}",
        f"--log-file={log_file}",
        sys.executable,
        str(script),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{path} ({source}): exit {done.returncode}\n{done.stderr[-2000:]}")
    return parse_collected(log_file.read_text(encoding="utf-8", errors="replace"))


def table(results: dict[str, dict[str, float]], sources: list[str], n: int) -> str:
    """Millions of instructions per request, one row per path, one column per source (and the
    change against the first)."""
    head = ["path", *(f"`{s}`" for s in sources)]
    if len(sources) > 1:
        head += [f"change vs `{sources[0]}`" for _ in sources[1:]]
    lines = ["| " + " | ".join(head) + " |", "| --- |" + " ---: |" * (len(head) - 1)]
    for path, by_source in results.items():
        cells = [f"{by_source[s] / n / 1e6:.2f} M" for s in sources]
        base = by_source[sources[0]]
        cells += [f"{(by_source[s] - base) / base:+.1%}" for s in sources[1:]]
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.instructions", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--detainees", type=int, default=20_000)
    parser.add_argument("--families", type=int, default=200)
    parser.add_argument("--requests", type=int, default=40, help="counted per path (default 40)")
    parser.add_argument(
        "--warm",
        type=int,
        default=None,
        help="uncounted first (default: the families + 30, so that every family's signed-in "
        "principal is already cached, as in a steady run)",
    )
    parser.add_argument("--paths", type=lambda s: s.split(","), default=PATHS, help=",".join(PATHS))
    parser.add_argument(
        "--source",
        type=Path,
        action="append",
        help="a source tree to measure (repeat to compare; default: this checkout)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if args.warm is None:
        args.warm = args.families + 30
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind (callgrind) is needed: apt-get install valgrind")
    sources = [p.resolve() for p in (args.source or [ROOT])]
    from bench.http.__main__ import prepare
    from bench.run import temporary_database

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="idmaj-bench-instr-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "setup").mkdir()
        with temporary_database("postgresql", tmp) as url:
            config, specs = prepare(args, tmp, url)
            config_file, specs_file = tmp / "config.json", tmp / "specs.pickle"
            config_file.write_text(json.dumps(config), encoding="utf-8")
            specs_file.write_bytes(pickle.dumps(specs))
            runs = 0
            for path in args.paths:
                for source in sources:
                    offset = runs * (args.warm + args.requests)
                    runs += 1
                    files = (config_file, specs_file)
                    total = count(source, files, path, args.warm, args.requests, offset, tmp)
                    results.setdefault(path, {})[str(source)] = total
                    per = total / args.requests / 1e6
                    log(f"{path:12s} {source}: {per:.2f} M instructions/request")
    names = [str(s) for s in sources]
    print(
        f"\nInstructions per request (callgrind, {args.requests} requests after {args.warm}, "
        f"{args.detainees:,} detainees):\n"
    )
    print(table(results, names, args.requests))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
