"""Named counters (registration numbers, receipt numbers): one upsert each, no gap, no
duplicate — also when many connections advance the same counter at once (PostgreSQL)."""

from __future__ import annotations

import threading

import pytest

from core.db import session
from core.detainees.services import next_counter
from core.testing import sql_statements


def test_a_counter_starts_at_one_and_each_name_counts_alone(app):
    with app.app_context():
        assert [next_counter("test-a") for _ in range(3)] == [1, 2, 3]
        assert next_counter("test-b") == 1
        assert next_counter("test-a") == 4


def test_one_statement_per_number(app):
    with app.app_context():
        next_counter("test-c")
        value, seen = sql_statements(app, lambda: next_counter("test-c"))
        assert value == 2
        assert len(seen) == 1 and "ON CONFLICT" in seen[0]


@pytest.mark.concurrency
def test_simultaneous_numbers_have_no_gap_and_no_duplicate(fresh_app):
    workers, each = 8, 25
    barrier = threading.Barrier(workers)
    got: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        with fresh_app.app_context():
            barrier.wait()
            for _ in range(each):
                value = next_counter("race")
                session().commit()
                with lock:
                    got.append(value)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == list(range(1, workers * each + 1))
