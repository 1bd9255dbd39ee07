"""A payment agency's settlement file: the lines it paid, matched with orders awaiting payment.

The file is CSV (comma or semicolon, UTF-8 with or without BOM) with a header naming at least
``reference`` and ``amount`` (``paid_at`` and ``agency`` are kept if present). Each line ends
as one :class:`~idmaj_purchasing.models.LineOutcome`:

- ``paid`` — an order of this establishment awaiting payment, the amount exact: it is paid;
- ``duplicate`` — the reference was already paid (earlier in this file or by an earlier file);
- ``unknown`` — no order of this establishment has this pay reference;
- ``wrong_amount`` — the amount differs from the order's total: the order keeps waiting;
- ``not_awaiting`` — the order expired or was cancelled before the money came: refund by hand;
- ``malformed`` — the line cannot be read.

The import and every payment it makes are one transaction; the report is kept
(``purchasing_settlements``) and listed on the settlement page.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from core.audit import services as audit
from core.db import session as db_session
from core.detainees.services import lock_detainee
from core.errors import ValidationFailed
from core.i18n import lazy_gettext as _l
from core.identity.services import require
from core.scoping import ensure_in_scope
from core.validation import ascii_digits
from idmaj_purchasing.models import LineOutcome, Order, OrderStatus, Settlement, SettlementLine
from idmaj_purchasing.services.common import money, now, parse_money
from idmaj_purchasing.services.notify import tell_family
from idmaj_purchasing.services.transitions import move

MAX_BYTES = 2_000_000
MAX_LINES = 5_000
OUTCOME_LABELS = {
    LineOutcome.paid: _l("Paid"),
    LineOutcome.duplicate: _l("Already paid (duplicate line)"),
    LineOutcome.unknown: _l("Unknown reference"),
    LineOutcome.wrong_amount: _l("Wrong amount"),
    LineOutcome.not_awaiting: _l("Order no longer awaiting payment"),
    LineOutcome.malformed: _l("Line cannot be read"),
}
PAID_BY_AGENCY = (OrderStatus.paid, OrderStatus.prepared, OrderStatus.delivered)


def outcome_label(code: Any) -> str:
    return str(OUTCOME_LABELS.get(LineOutcome(str(code)), code))


def _bad_file(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="bad_settlement_file", fields={"file": message})


def read_rows(raw: bytes) -> list[dict[str, str]]:
    if len(raw) > MAX_BYTES:
        raise _bad_file(_("The file is too large (at most 2 MB)."))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _bad_file(_("The file must be CSV text in UTF-8.")) from exc
    if "\x00" in text:
        raise _bad_file(_("The file must be CSV text in UTF-8."))
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        if "reference" not in header or "amount" not in header:
            raise _bad_file(_("The first line must name the columns reference and amount."))
        reader.fieldnames = header
        rows = []
        for i, row in enumerate(reader):
            if i >= MAX_LINES:
                raise _bad_file(
                    ngettext(
                        "At most %(num)d line in one file.",
                        "At most %(num)d lines in one file.",
                        MAX_LINES,
                    )
                )
            rows.append({k: (v or "").strip() for k, v in row.items() if isinstance(k, str)})
    except csv.Error as exc:
        raise _bad_file(_("The file must be CSV text in UTF-8.")) from exc
    if not rows:
        raise _bad_file(_("The file has no line to import."))
    return rows


def import_settlement(establishment_id: int, raw: bytes, filename: str, actor: Any) -> Settlement:
    """Match every line of an agency's file (see the module's docstring)."""
    require(actor, "purchasing.manage")
    ensure_in_scope(actor, establishment_id)
    rows = read_rows(raw)
    sess = db_session()
    settlement = Settlement(
        establishment_id=establishment_id,
        filename=(filename or "")[:200],
        imported_by_id=getattr(actor, "id", None),
        imported_by=getattr(actor, "username", "") or "",
        imported_at=now(),
    )
    sess.add(settlement)
    sess.flush()
    seen: set[str] = set()
    for number, row in enumerate(rows, start=2):  # line 1 is the header
        reference = ascii_digits(row.get("reference", "")).replace(" ", "")[:60]
        amount_text = row.get("amount", "")[:30]
        outcome, order, note = _match(establishment_id, reference, amount_text, seen, actor)
        sess.add(
            SettlementLine(
                settlement_id=settlement.id,
                line_no=number,
                pay_reference=reference,
                amount=amount_text,
                outcome=outcome,
                order_id=order.id if order else None,
                note=note,
            )
        )
    sess.flush()
    sess.refresh(settlement)
    counts = Counter(str(line.outcome) for line in settlement.lines)
    audit.record(
        "purchasing.settlement.import",
        "purchasing_settlement",
        settlement.id,
        establishment_id=establishment_id,
        summary={"file": settlement.filename, **dict(sorted(counts.items()))},
        actor=actor,
    )
    return settlement


def _match(
    establishment_id: int, reference: str, amount_text: str, seen: set[str], actor: Any
) -> tuple[LineOutcome, Order | None, str]:
    cents = parse_money(amount_text, maximum=10**9)
    if not reference or cents is None:
        return LineOutcome.malformed, None, ""
    sess = db_session()
    order = sess.scalar(
        select(Order).where(
            Order.pay_reference == reference, Order.establishment_id == establishment_id
        )
    )
    if order is None:
        return LineOutcome.unknown, None, ""
    if reference in seen:
        return LineOutcome.duplicate, order, ""
    lock_detainee(order.detainee)
    sess.refresh(order)
    if order.status in PAID_BY_AGENCY:
        return LineOutcome.duplicate, order, ""
    if order.status != OrderStatus.awaiting_payment:
        return LineOutcome.not_awaiting, order, str(order.status)
    if cents != order.total_centimes:
        return LineOutcome.wrong_amount, order, money(order.total_centimes)
    seen.add(reference)
    move(order, OrderStatus.paid, paid_at=now(), payment_receipt=f"agency:{reference}")
    audit.record(
        "purchasing.order.pay",
        "purchasing_order",
        order.reference,
        establishment_id=order.establishment_id,
        summary={"status": ["awaiting_payment", "paid"], "receipt": reference},
        actor=actor,
    )
    tell_family(order)
    return LineOutcome.paid, order, ""


def settlements(
    actor: Any, establishment_id: int | None = None, limit: int = 20
) -> list[Settlement]:
    require(actor, "purchasing.view")
    stmt = select(Settlement).order_by(Settlement.imported_at.desc(), Settlement.id.desc())
    if establishment_id is not None:
        stmt = stmt.where(Settlement.establishment_id == establishment_id)
    return list(db_session().scalars(stmt.limit(limit)))


def get_settlement(actor: Any, settlement_id: int) -> Settlement | None:
    require(actor, "purchasing.view")
    row = db_session().get(Settlement, settlement_id)
    if row is None:
        return None
    ensure_in_scope(actor, row.establishment_id)
    return row
