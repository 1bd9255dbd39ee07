"""Demo data (filled below)."""

from __future__ import annotations

from typing import Any


def seed(context: Any) -> None:
    return None
