"""Bulk admission from a CSV file (``idmaj detainees import FILE.csv`` and the import page).

Columns (a header line is required; UTF-8 with or without BOM; ``,`` or ``;``)::

    first_name,last_name,first_name_ar,last_name_ar,birth_date,sex,national_id,establishment,legal_status

Each row is admitted through :func:`core.detainees.services.admit` (so it is validated,
scoped, audited and the plugins' ``on_detainee_admitted`` runs) inside a SAVEPOINT of its own:
a bad row never half-writes and never spoils the good ones. Good rows are committed in
batches; bad rows are reported by line number with the field and a localised message.
A file that cannot be read at all (not UTF-8 text, not CSV, no header, no row) raises
:class:`ValidationFailed` on the field ``file`` before anything is written.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from core.db import session as db_session
from core.detainees import services
from core.errors import DomainError, ValidationFailed
from core.identity.services import require
from core.principals import Principal

COLUMNS = (
    "first_name",
    "last_name",
    "first_name_ar",
    "last_name_ar",
    "birth_date",
    "sex",
    "national_id",
    "establishment",
    "legal_status",
)
REQUIRED_COLUMNS = ("first_name", "last_name", "birth_date", "sex", "establishment", "legal_status")
BATCH_SIZE = 500
MAX_ROWS = 200_000


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    message: str


@dataclass
class ImportResult:
    total: int = 0
    imported: int = 0
    errors: list[RowError] = field(default_factory=list)
    registration_numbers: list[str] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class ParsedFile:
    columns: list[str]
    rows: list[tuple[int, dict[str, str] | None]]  # None: a row of the wrong width


def _bad_file(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="bad_file", fields={"file": message})


def parse(data: bytes | str) -> ParsedFile:
    """Read the whole file (header and rows) or raise :class:`ValidationFailed` on ``file``."""
    if isinstance(data, bytes):
        if b"\x00" in data[:4096]:
            raise _bad_file(_("This is not a CSV file: save the sheet as CSV (UTF-8)."))
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _bad_file(
                _("The file is not UTF-8 text: save the sheet as CSV (UTF-8).")
            ) from exc
    else:
        text = data.removeprefix("\ufeff")
    if not text.strip():
        raise _bad_file(_("The file is empty."))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header: list[str] = []
        for header in reader:
            if any(cell.strip() for cell in header):
                break
        columns = [cell.strip().lower().removeprefix("\ufeff") for cell in header]
        missing = [c for c in REQUIRED_COLUMNS if c not in columns]
        if missing:
            raise _bad_file(
                _(
                    "The first line must name the columns; missing: %(columns)s.",
                    columns=", ".join(missing),
                )
            )
        unknown = [c for c in columns if c and c not in COLUMNS]
        if unknown or len(set(columns)) != len(columns):
            raise _bad_file(
                _(
                    "Unknown or repeated columns: %(columns)s. Expected: %(expected)s.",
                    columns=", ".join(unknown) or ", ".join(columns),
                    expected=",".join(COLUMNS),
                )
            )
        rows: list[tuple[int, dict[str, str] | None]] = []
        start = reader.line_num
        for cells in reader:
            line = start + 1
            start = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise _bad_file(
                    ngettext(
                        "At most %(num)d row in one file.",
                        "At most %(num)d rows in one file.",
                        MAX_ROWS,
                    )
                )
            if len(cells) != len(columns):
                rows.append((line, None))
                continue
            rows.append((line, dict(zip(columns, cells, strict=True))))
    except csv.Error as exc:
        raise _bad_file(
            _("This is not a readable CSV file (line %(line)d).", line=reader.line_num)
        ) from exc
    if not rows:
        raise _bad_file(_("The file has no detainee rows under its header line."))
    return ParsedFile(columns, rows)


def _row_data(row: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for column, value in row.items():
        value = value.strip()
        if column in ("first_name_ar", "last_name_ar", "national_id") and not value:
            continue
        if column in ("sex", "national_id", "establishment"):
            value = value.upper()
        elif column == "legal_status":
            value = value.lower()
        data[column] = value
    return data


def import_rows(
    parsed: ParsedFile,
    actor: Principal,
    *,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Admit every good row (one SAVEPOINT each), committing every ``batch_size`` rows.

    ``actor`` is :data:`~core.principals.SYSTEM` for the command line; a user must hold
    ``detainees.import`` and ``detainees.admit``, and may only import into their own
    establishments (other rows fail with "Unknown establishment.").
    """
    require(actor, "detainees.import")
    require(actor, "detainees.admit")
    sess = db_session()
    result = ImportResult(total=len(parsed.rows))
    pending = 0
    for line, row in parsed.rows:
        if row is None:
            result.errors.append(
                RowError(
                    line,
                    "row",
                    ngettext(
                        "Expected %(num)d value separated by commas.",
                        "Expected %(num)d values separated by commas.",
                        len(parsed.columns),
                    ),
                )
            )
        else:
            try:
                with sess.begin_nested():
                    det = services.admit(_row_data(row), actor)
                result.imported += 1
                result.registration_numbers.append(det.registration_number)
                pending += 1
            except DomainError as exc:
                if exc.fields:
                    for name, message in exc.fields.items():
                        result.errors.append(RowError(line, name, str(message)))
                else:
                    result.errors.append(RowError(line, "row", str(exc.message)))
        if pending >= batch_size:
            sess.commit()
            pending = 0
        if progress is not None:
            progress(1)
    sess.commit()
    return result


def iter_error_lines(result: ImportResult) -> Iterator[str]:
    """``line N: field: message`` per bad value (a fixed, greppable prefix; the message is
    localised)."""
    for err in result.errors:
        yield f"line {err.line}: {err.field}: {err.message}"
