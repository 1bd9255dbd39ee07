"""Plugins' fragments of one page (profile panels, dashboard widgets) rendered with one
template context.

``render_template`` runs every context processor (the signed-in user, permissions, navigation
helpers, the language and direction, the CSRF token…) for each template it renders; a profile
with four panels ran them five times for one page. A :class:`Fragments` computes that context
once for the request's page and renders each fragment with it, its own values on top (they
win, as with ``render_template``), and the page itself (:meth:`Fragments.page`)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.signals import before_render_template, template_rendered
from markupsafe import Markup


class Fragments:
    def __init__(self) -> None:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        self._env = app.jinja_env
        self._base: dict[str, Any] = {}
        app.update_template_context(self._base)

    def render(self, template: str, **values: Any) -> Markup:
        return Markup(self._env.get_template(template).render({**self._base, **values}))

    def page(self, template: str, **values: Any) -> str:
        """The page the fragments go in, rendered with the same context (its context
        processors are not run a second time); Flask's template signals are sent as
        ``render_template`` sends them."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        tmpl = self._env.get_template(template)
        context = {**self._base, **values}
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=tmpl, context=context
        )
        html = tmpl.render(context)
        template_rendered.send(app, _async_wrapper=app.ensure_sync, template=tmpl, context=context)
        return html
