"""Plugins' fragments of one page (profile panels, dashboard widgets) rendered with one
template context.

``render_template`` runs every context processor (the signed-in user, permissions, navigation
helpers, the language and direction, the CSRF token…) for each template it renders; a profile
with four panels ran them five times for one page. A :class:`Fragments` computes that context
once for the request's page and renders each fragment with it, its own values on top (they
win, as with ``render_template``)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from markupsafe import Markup


class Fragments:
    def __init__(self) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._env = app.jinja_env
        self._base: dict[str, Any] = {}
        app.update_template_context(self._base)

    def render(self, template: str, **values: Any) -> Markup:
        return Markup(self._env.get_template(template).render({**self._base, **values}))
