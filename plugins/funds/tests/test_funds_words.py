"""Funds in the reader's language (issue 11 points 5 and 6): memos the platform writes are stored
as codes and shown translated (old rows' words too); amounts read "درهم" on Arabic pages."""

from __future__ import annotations

from typing import Any

import pytest
from flask import render_template_string
from sqlalchemy import select

from core.db import session
from core.detainees.services import move
from core.principals import SYSTEM
from plugins.funds import services
from plugins.funds.models import Transaction, TxType


def test_transfer_memos_are_codes_shown_in_the_reader_s_language(app: Any, factories: Any) -> None:
    with app.app_context():
        det = factories.detainee("EST-A")
        dest = factories.establishment("EST-B")
        services.deposit(det, SYSTEM, amount="20.00", source="cash")
        move(det, dest, SYSTEM)
        memos = (
            session()
            .scalars(
                select(Transaction.memo)
                .where(Transaction.type.in_([TxType.transfer_out, TxType.transfer_in]))
                .order_by(Transaction.id)
            )
            .all()
        )
    assert memos[-2:] == ["transfer_to:EST-B", "transfer_from:EST-A"]
    with app.test_request_context("/?lang=fr"):
        assert services.memo_label("transfer_to:EST-B") == "Transfert vers EST-B"
    with app.test_request_context("/?lang=ar"):
        assert services.memo_label("transfer_from:EST-A") == "ترحيل من EST-A"


@pytest.mark.parametrize(
    ("stored", "arabic"),
    [
        ("release_payout", "صُرف عند الإفراج"),
        ("Paid out at release", "صُرف عند الإفراج"),  # written before the codes
        ("Versé à la libération", "صُرف عند الإفراج"),
        ("Transfert vers CAS-AS", "ترحيل إلى CAS-AS"),
        ("Transfer from RBT-AR", "ترحيل من RBT-AR"),
        ("canteen, March", "canteen, March"),  # a person's words stay as typed
        ("", ""),
    ],
)
def test_memo_labels(app: Any, stored: str, arabic: str) -> None:
    with app.test_request_context("/?lang=ar"):
        assert services.memo_label(stored) == arabic


@pytest.mark.parametrize(("lang", "expected"), [("ar", "درهم"), ("fr", "MAD"), ("en", "MAD")])
def test_amounts_carry_the_currency_of_the_page_language(
    app: Any, lang: str, expected: str
) -> None:
    with app.test_request_context(f"/?lang={lang}"):
        shown = render_template_string("{{ 123450|money }}")
    assert shown.endswith(expected)
    assert ("MAD" in shown) == (lang != "ar")
