"""Booking references and the text of their QR codes."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select

from core.db import session as db_session

from ..models import Booking

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
REFERENCE_LENGTH = 8
QR_PREFIX = "IDMAJ-VISIT:"


def new_reference() -> str:
    sess = db_session()
    while True:
        ref = "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))
        if sess.scalar(select(Booking.id).where(Booking.reference == ref)) is None:
            return ref


def normalise_reference(value: str) -> str:
    """A typed reference or the QR code's text → the reference (case and spaces ignored)."""
    raw = (value or "").strip()
    if raw.upper().startswith(QR_PREFIX):
        raw = raw[len(QR_PREFIX) :]
    return re.sub(r"[\s-]", "", raw).upper()[:20]


def qr_text(booking: Booking) -> str:
    return f"{QR_PREFIX}{booking.reference}"
