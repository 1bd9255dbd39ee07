"""A sealer process killed in the middle of a batch loses nothing: its transaction dies with
it, and the next run chains every event. A real process, killed with ``os._exit`` after it has
sent half the batch's hashes to the database (PostgreSQL: a second real connection)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.audit import sealer
from core.audit import services as audit
from core.audit.models import AuditEvent
from core.config import PROJECT_ROOT
from core.db import session

pytestmark = pytest.mark.concurrency

DYING_SEALER = """
import os
from pathlib import Path

from core.app import create_app
from core.audit import sealer
from core.audit import services as audit
from core.db import session
from core.testing import test_config

app = create_app(test_config({url!r}, Path({instance!r})))
real = audit.compute_hash
calls = {{"n": 0}}


def dying(event):
    calls["n"] += 1
    if calls["n"] == 4:  # three hashes sent to the database, then the process dies
        session().flush()
        os._exit(9)
    return real(event)


audit.compute_hash = dying
with app.app_context():
    sealer.seal_pending()
"""


def test_a_killed_sealer_loses_nothing(fresh_app: Any, tmp_path: Path) -> None:
    with fresh_app.app_context():
        sealer.seal_all()  # what the set-up itself recorded
        for n in range(6):
            audit.record("test.killed_sealer", "test", str(n), summary={"n": n})
        session().commit()
    script = tmp_path / "dying_sealer.py"
    script.write_text(
        textwrap.dedent(
            DYING_SEALER.format(
                url=fresh_app.config["DATABASE_URL"], instance=fresh_app.instance_path
            )
        ),
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, str(script)], cwd=PROJECT_ROOT, timeout=120, capture_output=True
    )
    assert proc.returncode == 9, proc.stderr.decode()[-2000:]

    ours = select(AuditEvent).where(AuditEvent.action == "test.killed_sealer")
    with fresh_app.app_context():
        session().expire_all()
        assert [e.hash for e in session().scalars(ours)] == [None] * 6  # nothing half-sealed
        assert sealer.seal_all() >= 6
        events = list(session().scalars(ours.order_by(AuditEvent.id)))
        assert all(e.hash for e in events)
        indexes = [e.chain_index for e in events]
        assert indexes == list(range(indexes[0], indexes[0] + 6))
        unsealed = select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None))
        assert session().scalar(unsealed) == 0
        assert audit.verify().ok
