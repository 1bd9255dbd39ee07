"""The instruction-count benchmark's parts (bench/instructions.py): callgrind's log read, the
table, and the measured child run for real (on SQLite, with a stand-in ``callgrind_control``
that records what it was asked). No count is asserted: the figures are the benchmark's."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import ROOT, child_script, parse_collected, table

LOG = """==123== Callgrind, a call-graph generating cache profiler
==123== Events    : Ir
==123== Collected : 896336586
==123==
==123== I   refs:      896,336,586
"""


def test_the_collected_instructions_are_read_from_callgrinds_log() -> None:
    assert parse_collected(LOG) == 896_336_586
    with pytest.raises(ValueError):
        parse_collected("==1== nothing collected here\n")


def test_the_table_shows_millions_per_request_and_the_change_against_the_first_source() -> None:
    out = table({"profile": {"old": 1_000_000_000, "new": 900_000_000}}, ["old", "new"], 40)
    assert "| profile | 25.00 M | 22.50 M | -10.0% |" in out
    assert out.splitlines()[0] == "| path | `old` | `new` | change vs `old` |"


def test_the_child_answers_the_warm_up_then_the_counted_requests_between_two_toggles(
    tmp_path: Path,
) -> None:
    """The child script, as valgrind would run it: the app of a source tree, ``warm``
    requests, instrumentation on, ``n`` requests, off. A stand-in ``callgrind_control`` on
    the PATH records the toggles; the app answers every request (a failure stops the child)."""
    from core.testing import build_migrated_app, test_config

    db = f"sqlite:///{tmp_path / 'instr.db'}"
    build_migrated_app(db, tmp_path / "setup").extensions["idmaj.db"].dispose()
    config = {
        k: v
        for k, v in test_config(db, tmp_path / "instance").items()
        if isinstance(v, str | int | bool | float)
    }
    (tmp_path / "instance").mkdir(exist_ok=True)
    config_file, specs_file = tmp_path / "config.json", tmp_path / "specs.pickle"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    specs = {"home": {"kind": "get", "urls": ["/login", "/establishments"], "headers": {}}}
    specs_file.write_bytes(pickle.dumps(specs))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    record = tmp_path / "toggles.txt"
    fake = bindir / "callgrind_control"
    fake.write_text(f'#!/bin/sh\necho "$1 $2" >> {record}\n', encoding="utf-8")
    fake.chmod(0o755)
    script = tmp_path / "child.py"
    args = [str(ROOT), str(config_file), str(specs_file), "home", 3, 5, 0]
    script.write_text(child_script(args), encoding="utf-8")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert record.read_text(encoding="utf-8").split("\n")[:2] == ["-i on", "-i off"]
    # a path that answers an error stops the child with the status
    specs["broken"] = {"kind": "get", "urls": ["/no/such/page"], "headers": {}}
    specs_file.write_bytes(pickle.dumps(specs))
    script.write_text(child_script([*args[:3], "broken", 1, 1, 0]), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0 and "HTTP 404" in done.stderr
