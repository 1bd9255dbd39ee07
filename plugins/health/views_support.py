"""The portal pieces: dashboard widget and profile panel (filled below)."""

from __future__ import annotations

from typing import Any


def dashboard_widget(user: Any) -> Any:
    return None


def profile_panel(detainee: Any, user: Any) -> Any:
    return None
