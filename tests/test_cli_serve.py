"""`idmaj dev-server` (what `make run` starts) and `idmaj serve` (gunicorn) really serve."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

IDMAJ = str(Path(sys.executable).with_name("idmaj"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def served_env(tmp_path):
    env = {
        **os.environ,
        "IDMAJ_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}",
        "IDMAJ_SECRET_KEY": "serve-test",
    }
    subprocess.run([IDMAJ, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    return env


def _wait_for(url: str, proc: subprocess.Popen, seconds: float = 60) -> tuple[int, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            raise AssertionError(f"the server stopped (exit {proc.returncode}): {out[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status, resp.read().decode()
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing answered on {url}")


@pytest.mark.parametrize(
    "command",
    [["dev-server"], ["serve", "--workers", "1"]],
    ids=["dev-server", "gunicorn"],
)
def test_the_server_commands_serve_the_portal(served_env, command):
    port = _free_port()
    proc = subprocess.Popen(
        [IDMAJ, *command, "--host", "127.0.0.1", "--port", str(port)],
        env=served_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        status, body = _wait_for(f"http://127.0.0.1:{port}/login", proc)
        assert status == 200
        assert '<html lang="ar" dir="rtl">' in body
    finally:
        proc.terminate()
        proc.wait(timeout=20)
