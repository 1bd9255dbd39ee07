"""``core.csv_safety``: one escaping rule for every CSV the application produces."""

from __future__ import annotations

import csv
import io
import pathlib
from decimal import Decimal

import pytest

from core.csv_safety import csv_safe, write_rows

ROOT = pathlib.Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    "value", ['=HYPERLINK("x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=1+1", "-"]
)
def test_formula_prefixes_are_neutralised(value: str) -> None:
    assert csv_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["Fatima", "12.50", "", " =x", "'=x", "a=b"])
def test_ordinary_text_is_unchanged(value: str) -> None:
    assert csv_safe(value) == value


def test_numbers_computed_by_the_app_stay_numbers() -> None:
    assert csv_safe(Decimal("-12.50")) == Decimal("-12.50")
    assert csv_safe(-3) == -3
    assert csv_safe(None) == ""
    assert csv_safe(True) == "True"


def test_write_rows_escapes_every_cell() -> None:
    out = io.StringIO()
    write_rows(csv.writer(out), [["name", "amount"], ["=cmd|' /C calc'!A0", Decimal("-1.00")]])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["name", "amount"], ["'=cmd|' /C calc'!A0", "-1.00"]]


def test_every_csv_writer_goes_through_write_rows() -> None:
    """No module writes CSV rows itself, and no module keeps its own escaping copy."""
    offenders = []
    for path in [*ROOT.glob("core/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        if "tests" in path.parts or path.name == "csv_safety.py":
            continue
        text = path.read_text(encoding="utf-8")
        if "_csv_safe" in text or ".writerow(" in text or "DictWriter" in text:
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
