"""Pages (placeholder, filled below)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

bp = Blueprint(
    "complaints",
    __name__,
    url_prefix="/complaints",
    template_folder=str(Path(__file__).parent / "templates"),
)
