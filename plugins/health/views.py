"""Pages (filled below)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint

bp = Blueprint(
    "health",
    __name__,
    url_prefix="/health",
    template_folder=str(Path(__file__).parent / "templates"),
)


@bp.get("/")
def index() -> str:
    return ""


@bp.get("/figures")
def figures() -> str:
    return ""
