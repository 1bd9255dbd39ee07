"""The PostgreSQL tests (markers ``concurrency`` and ``postgresql``) are deselected on SQLite,
where they would prove nothing, and selected on PostgreSQL; never skipped. A test that races
threads on ``fresh_app`` must carry the ``concurrency`` marker. (The idmaj pytest plugin,
core/testing.py, run on a throwaway test file.)"""

from __future__ import annotations

from typing import Any

import pytest

SAMPLE = """
import pytest

@pytest.mark.concurrency
def test_race():
    pass

@pytest.mark.postgresql
def test_trigger():
    pass

def test_plain():
    pass
"""

SQLITE_SAMPLE = """
import pytest

@pytest.mark.sqlite
def test_sqlite_pragma():
    pass

def test_plain():
    pass
"""


@pytest.fixture
def sample(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_sample=SAMPLE)
    return pytester


def test_on_sqlite_they_are_deselected_not_skipped(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "sqlite")
    result = sample.runpytest("-p", "no:cacheprovider", "-rA")
    assert result.parseoutcomes() == {"passed": 1, "deselected": 2}
    result.stdout.fnmatch_lines(["*2 PostgreSQL test(s)*deselected on SQLite*make test-postgres*"])


def test_on_postgresql_they_are_selected(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "postgresql")
    result = sample.runpytest("-p", "no:cacheprovider", "--collect-only", "-q")
    result.stdout.fnmatch_lines(["*::test_race", "*::test_trigger", "*::test_plain"])
    assert "deselected" not in result.stdout.str()


def test_the_make_test_expression_leaves_them_out_on_any_backend(
    sample: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "postgresql")
    result = sample.runpytest(
        "-p", "no:cacheprovider", "-m", "not browser and not concurrency and not postgresql"
    )
    assert result.parseoutcomes() == {"passed": 1, "deselected": 2}


def test_fresh_app_refuses_a_test_without_the_concurrency_marker(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "postgresql")  # so that it is not deselected
    pytester.makepyfile(test_unmarked="def test_threads(fresh_app):\n    pass\n")
    result: Any = pytester.runpytest("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"errors": 1}
    result.stdout.fnmatch_lines(["*fresh_app is for tests of simultaneous connections*"])


def test_an_sqlite_only_test_is_deselected_on_postgresql_not_skipped(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_sqlite_sample=SQLITE_SAMPLE)
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "postgresql")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert result.parseoutcomes() == {"passed": 1, "deselected": 1}
    result.stdout.fnmatch_lines(["*1 SQLite-only test(s) deselected*"])
    monkeypatch.setenv("IDMAJ_TEST_BACKEND", "sqlite")
    assert pytester.runpytest("-p", "no:cacheprovider").parseoutcomes() == {"passed": 2}
