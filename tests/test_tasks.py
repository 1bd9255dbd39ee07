"""Background work (``core.tasks``, ``idmaj worker``) and the outbox's retries.

- a failing channel is retried with exponential back-off, then ends failed, listed by
  ``idmaj notifications failed``;
- the real SQLite queue: a task enqueued is stored in the file, dequeued and executed;
- ``idmaj worker`` as a real process against a temporary SQLite database delivers what is
  queued, and stops on a signal (bounded in time);
- on PostgreSQL (``concurrency``), several dispatchers racing on one set of pending messages
  deliver each exactly once (``FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import testing
from core.cli import cli
from core.contributions import NotificationChannel
from core.db import session as db_session
from core.db import utcnow
from core.notifications import services as notify
from core.notifications.models import OutboxMessage
from core.notifications.services import dispatch_pending, enqueue, retry_delay
from core.plugins import hookimpl
from core.tasks import QueueFileStorage, get_queue, schedule


class Down:
    """A plugin whose SMS channel is always down."""

    PLUGIN_NAME = "tpdown"
    IDMAJ_CONTRACT = ">=2,<3"

    @hookimpl
    def plugin_notification_channels(self) -> list[NotificationChannel]:
        def send(message: Any) -> None:
            raise ConnectionError("SMS gateway unreachable")

        return [NotificationChannel("tp-down", send)]


def _get(app: Any, msg_id: int) -> OutboxMessage:
    with app.app_context():
        return db_session().get(OutboxMessage, msg_id)


def _rewind(app: Any, msg_id: int) -> None:
    """Pretend the back-off delay has passed."""
    with app.app_context():
        msg = db_session().get(OutboxMessage, msg_id)
        msg.next_attempt_at = utcnow() - dt.timedelta(seconds=1)
        db_session().commit()


def test_retry_delay_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 60).total_seconds() for n in (1, 2, 3, 4)] == [60, 120, 240, 480]
    assert retry_delay(40, 60) == dt.timedelta(days=1)


def test_failing_channel_backs_off_then_fails_and_is_listed(make_app: Any) -> None:
    app = make_app([Down()], rolled_back=True, NOTIFY_MAX_ATTEMPTS=3, NOTIFY_RETRY_SECONDS=60)
    with app.app_context():
        msg_id = enqueue(kind="tp.test", subject="Visit moved", channel="tp-down").id
        db_session().commit()
    delays = []
    for attempt in (1, 2):
        before = utcnow()
        with app.app_context():
            assert dispatch_pending() == 0
        msg = _get(app, msg_id)
        assert msg.attempts == attempt and msg.sent_at is None and msg.failed_at is None
        assert msg.last_error == "ConnectionError: SMS gateway unreachable"
        delays.append((msg.next_attempt_at - before).total_seconds())
        # not due yet: a dispatcher leaves it alone
        with app.app_context():
            dispatch_pending()
        assert _get(app, msg_id).attempts == attempt
        _rewind(app, msg_id)
    assert 59 <= delays[0] <= 62 and 119 <= delays[1] <= 122  # 60 s, then doubled
    with app.app_context():
        dispatch_pending()
    msg = _get(app, msg_id)
    assert msg.attempts == 3 and msg.failed_at is not None and msg.sent_at is None
    _rewind(app, msg_id)
    with app.app_context():
        dispatch_pending()
    assert _get(app, msg_id).attempts == 3  # failed: never tried again

    result = app.test_cli_runner().invoke(cli, ["notifications", "failed"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"{msg_id}\t"))
    assert "tp-down" in line and "3 tries" in line
    assert "ConnectionError: SMS gateway unreachable" in line

    # the operator repairs the gateway and gives it a fresh set of tries
    result = app.test_cli_runner().invoke(cli, ["notifications", "retry", str(msg_id)])
    assert result.exit_code == 0 and "queued again: 1" in result.output, result.output
    msg = _get(app, msg_id)
    assert msg.failed_at is None and msg.attempts == 0 and msg.next_attempt_at is None
    with app.app_context():
        dispatch_pending()
    assert _get(app, msg_id).attempts == 1  # tried again (still down here)


def test_max_attempts_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from core.config import load_config

    monkeypatch.setenv("IDMAJ_NOTIFY_MAX_ATTEMPTS", "7")
    assert load_config({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})["NOTIFY_MAX_ATTEMPTS"] == 7
    monkeypatch.delenv("IDMAJ_NOTIFY_MAX_ATTEMPTS")
    assert load_config({"SECRET_KEY": "x", "DATABASE_URL": "sqlite://"})["NOTIFY_MAX_ATTEMPTS"] == 5


def test_schedules_every_and_cron() -> None:
    from core.contributions import PeriodicTask
    from core.plugins import PluginError

    every = schedule(PeriodicTask("t.every", dt.timedelta(minutes=15), lambda: None))
    assert every(dt.datetime(2026, 1, 1, 10, 45)) and not every(dt.datetime(2026, 1, 1, 10, 46))
    cron = schedule(PeriodicTask("t.cron", "30 1 * * *", lambda: None))
    assert cron(dt.datetime(2026, 1, 1, 1, 30)) and not cron(dt.datetime(2026, 1, 1, 2, 30))
    for bad in (dt.timedelta(seconds=30), "30 1 * *", 5):
        with pytest.raises(PluginError, match=r"t\.bad"):
            schedule(PeriodicTask("t.bad", bad, lambda: None))  # type: ignore[arg-type]


def test_visits_and_core_declare_their_periodic_tasks(app: Any) -> None:
    periodic = get_queue(app).periodic
    assert {
        "core.notifications",
        "core.audit_seal",
        "visits.reminders",
        "visits.generate_slots",
    } <= set(periodic)
    assert not [name for name in periodic if name.startswith("funds.")]
    due = get_queue(app).due(dt.datetime(2026, 1, 1, 17, 0))
    assert [name for name in due if name.startswith(("core.", "visits."))] == [
        "core.audit_seal",
        "core.notifications",
        "visits.reminders",
    ]


def test_the_worker_seals_the_audit_trail_every_minute(app: Any) -> None:
    from sqlalchemy import func, select

    from core.audit import services as audit
    from core.audit.models import AuditEvent
    from core.db import session

    queue = get_queue(app)
    assert "core.audit_seal" in queue.due(dt.datetime(2026, 1, 1, 3, 7))
    with app.app_context():
        audit.record("test.worker_seal", "test", "1", summary={})
        session().commit()
        unsealed = select(func.count()).select_from(AuditEvent).where(AuditEvent.hash.is_(None))
        assert session().scalar(unsealed) >= 1
    queue.run_now("core.audit_seal")
    with app.app_context():
        assert session().scalar(unsealed) == 0


def test_sqlite_queue_stores_dequeues_and_executes(make_app: Any, tmp_path: Path) -> None:
    """The default storage: a SQLite file; enqueue → stored → consumed → delivered."""
    app = make_app(rolled_back=True, TASKS_FILE=str(tmp_path / "queue.db"))
    queue = get_queue(app)
    assert isinstance(queue.huey.storage, QueueFileStorage) and not queue.huey.immediate
    # the write-ahead log, committed without waiting for the disk (NORMAL = 1)
    conn = queue.huey.storage.conn
    assert conn.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert conn.execute("pragma synchronous").fetchone()[0] == 1
    with app.app_context():
        msg_id = enqueue(kind="tp.queued", subject="through the queue").id
        db_session().commit()
    queue.enqueue("core.notifications")
    assert (tmp_path / "queue.db").exists()
    assert queue.huey.pending_count() == 1
    assert _get(app, msg_id).sent_at is None  # only queued so far
    task = queue.huey.dequeue()
    assert task is not None and queue.huey.pending_count() == 0
    queue.huey.execute(task)
    assert _get(app, msg_id).sent_at is not None


def test_redis_url_selects_redis_storage() -> None:
    # a stand-in app: a real one would point the (process-wide) sign-in limiter at this Redis
    from types import SimpleNamespace

    from core.tasks import TaskQueue

    config = {"REDIS_URL": "redis://127.0.0.1:6399/0", "REDIS_KEY_PREFIX": "tp", "TASKS_FILE": ""}
    huey = TaskQueue(SimpleNamespace(config=config))._storage()  # type: ignore[arg-type]
    assert type(huey).__name__ == "RedisHuey" and huey.name == "tp-tasks"


def test_worker_help() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["worker", "--help"])
    assert result.exit_code == 0
    assert "--workers" in result.output and "--no-periodic" in result.output


def test_worker_process_delivers_what_is_queued(tmp_path: Path) -> None:
    """``idmaj worker`` for real: a child process on a temporary SQLite database and queue."""
    db_url = f"sqlite:///{tmp_path / 'worker.db'}"
    queue_file = tmp_path / "queue.db"
    app = testing.build_migrated_app(db_url, tmp_path, TASKS_FILE=str(queue_file))
    try:
        with app.app_context():
            msg_id = enqueue(kind="tp.worker", subject="from the worker").id
            db_session().commit()
        get_queue(app).enqueue("core.notifications")
        env = dict(
            os.environ,
            IDMAJ_DATABASE_URL=db_url,
            IDMAJ_TASKS_FILE=str(queue_file),
            IDMAJ_SECRET_KEY="worker-test",
        )
        env.pop("IDMAJ_REDIS_URL", None)
        proc = subprocess.Popen(
            [sys.executable, "-c", "from core.cli import main; main()", "worker", "--workers", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            sent = None
            while time.monotonic() < deadline and sent is None:
                time.sleep(0.2)
                sent = _get(app, msg_id).sent_at
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            proc.send_signal(signal.SIGINT)  # Huey's graceful stop
            output, _ = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        assert sent is not None, output
        assert "idmaj worker: 1 threads" in output
        assert proc.returncode is not None
    finally:
        app.extensions["idmaj.db"].dispose()


@pytest.mark.concurrency
def test_racing_dispatchers_deliver_each_message_once(
    fresh_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four dispatchers on forty pending messages: each delivered exactly once, and the work
    is shared (they run side by side: SKIP LOCKED, not one waiting for another)."""
    delivered: list[tuple[str, int]] = []
    lock = threading.Lock()

    def slow_send(message: Any) -> None:
        time.sleep(0.02)  # a gateway round trip: the dispatchers overlap
        with lock:
            delivered.append((threading.current_thread().name, message.id))

    monkeypatch.setattr(notify, "LOG_CHANNEL", NotificationChannel("log", slow_send))
    with fresh_app.app_context():
        ids = [enqueue(kind="tp.race", subject=f"m{i}").id for i in range(40)]
        db_session().commit()

    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with fresh_app.app_context():
                barrier.wait()
                while dispatch_pending(limit=5):
                    pass
        except BaseException as exc:  # a crash is a result the test must see
            errors.append(exc)

    threads = [threading.Thread(target=run, name=f"d{i}") for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    counts = Counter(mid for _, mid in delivered)
    assert sorted(counts) == sorted(ids)
    assert set(counts.values()) == {1}, [m for m, n in counts.items() if n > 1]
    assert len({name for name, _ in delivered}) > 1  # shared, not serialised
    with fresh_app.app_context():
        left = (
            db_session()
            .scalars(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))
            .all()
        )
    assert left == []


def test_a_periodic_task_never_overlaps_itself(make_app: Any, tmp_path: Path) -> None:
    app = make_app(rolled_back=True, TASKS_FILE=str(tmp_path / "queue.db"))
    queue = get_queue(app)
    queue.periodic  # noqa: B018 — builds the queue
    lock = queue._locks["core.notifications"]
    with app.app_context():
        msg_id = enqueue(kind="tp.lock", subject="waits for the lock").id
        db_session().commit()
    with lock:  # another worker is running it
        assert queue.run_now("core.notifications") is None
        assert _get(app, msg_id).sent_at is None
    assert queue.run_now("core.notifications") >= 1
    assert _get(app, msg_id).sent_at is not None
    # the scheduler's worker clears stale locks (a worker killed mid-task) when it starts
    lock.acquire()
    queue.consumer(periodic=False)
    assert lock.is_locked()  # a plain worker leaves it (it may be another host's)
    queue.consumer(periodic=True)
    assert not lock.is_locked()


def test_visits_periodic_tasks_run_as_the_worker_runs_them(app: Any) -> None:
    queue = get_queue(app)
    created = queue.run_now("visits.generate_slots")
    assert isinstance(created, int)
    assert queue.run_now("visits.generate_slots") == 0  # idempotent: nothing more to create
    assert isinstance(queue.run_now("visits.reminders"), int)


def test_redis_queue_stores_dequeues_and_executes(make_app: Any) -> None:
    """Several hosts: with IDMAJ_REDIS_URL the queue lives in Redis (a live server: .ci/run
    starts one; without it this test fails, it never skips)."""
    import os
    import uuid

    import redis

    url = os.environ.get("IDMAJ_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError as exc:
        pytest.fail(f"this test needs Redis at {url} (.ci/run starts it): {exc}")
    prefix = f"idmaj-test-{uuid.uuid4().hex}"
    app = make_app(rolled_back=True, REDIS_URL=url, REDIS_KEY_PREFIX=prefix)
    queue = get_queue(app)
    try:
        assert type(queue.huey).__name__ == "RedisHuey" and queue.huey.name == f"{prefix}-tasks"
        with app.app_context():
            msg_id = enqueue(kind="tp.queued", subject="through Redis").id
            db_session().commit()
        queue.enqueue("core.notifications")
        assert queue.huey.pending_count() == 1
        assert _get(app, msg_id).sent_at is None
        task = queue.huey.dequeue()
        assert task is not None and queue.huey.pending_count() == 0
        queue.huey.execute(task)
        assert _get(app, msg_id).sent_at is not None
    finally:
        queue.huey.flush()


def test_a_request_that_wrote_to_the_outbox_queues_its_delivery_for_a_worker(
    make_app: Any, tmp_path: Path
) -> None:
    """The request does not deliver (a transaction of its own, spent before the worker can take
    the next request): it queues ``core.notifications`` for a worker, which delivers."""
    app = make_app(rolled_back=True, TASKS_FILE=str(tmp_path / "tasks.db"))
    huey = get_queue(app).huey
    with app.test_request_context("/"):
        msg_id = enqueue(kind="tp.test", subject="Visit confirmed").id
        db_session().commit()
    assert huey.pending_count() == 1
    assert _get(app, msg_id).sent_at is None  # nothing sent in the request
    task = huey.dequeue()
    huey.execute(task)  # what `idmaj worker` does with it
    assert _get(app, msg_id).sent_at is not None


def test_immediate_tasks_deliver_at_the_end_of_the_request(make_app: Any) -> None:
    app = make_app(rolled_back=True, TASKS_IMMEDIATE=True)
    with app.test_request_context("/"):
        msg_id = enqueue(kind="tp.test", subject="Visit confirmed").id
        db_session().commit()
    assert _get(app, msg_id).sent_at is not None
