"""Booking references and the text of their QR codes."""

from __future__ import annotations

import re
import secrets

from ..models import Booking

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
REFERENCE_LENGTH = 8
QR_PREFIX = "IDMAJ-VISIT:"


def draw_reference() -> str:
    """A random reference, not looked up: the unique index refuses a reused one, and the
    caller that inserts it draws again (31⁸ ≈ 8.5 × 10¹¹ references)."""
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _i in range(REFERENCE_LENGTH))


def normalise_reference(value: str) -> str:
    """A typed reference or the QR code's text → the reference (case and spaces ignored)."""
    raw = (value or "").strip()
    if raw.upper().startswith(QR_PREFIX):
        raw = raw[len(QR_PREFIX) :]
    return re.sub(r"[\s-]", "", raw).upper()[:20]


def qr_text(booking: Booking) -> str:
    return f"{QR_PREFIX}{booking.reference}"
