"""The application class: Flask's, with the URLs a request builds kept for the next ones,
and what it learnt of each hook's kind.

Every request, Flask asks of each of its hooks (a score: before and after the request,
teardown, context processors, the view) whether it is a coroutine function, through
``inspect``; the answer never changes for a function. :meth:`App.ensure_sync` keeps it for
plain functions (an ``async def`` one is wrapped by Flask, as before).

A staff page builds a dozen URLs (the style sheet, the home page, the language and sign-out
forms, its own links), each through Werkzeug's rule look-up, converters and quoting; the
same few URLs again on every request. :meth:`App.url_for` keeps what it built, per endpoint
and values and per what the request's URL adapter builds with (its server name, script root,
scheme, subdomain and method), and answers the same call from that memo next time.

Only plain calls are kept: values that are ``str``, ``int`` or ``None`` (a value whose text
could change is never a key), no ``_anchor``/``_method``/``_scheme``/``_external``, an
absolute endpoint (not ``".name"``), inside a request, and no ``url_defaults`` function
registered (they may add values that depend on the request). Everything else is built by
Flask as before. The memo is emptied when it holds :data:`MEMO_SIZE` URLs (one per detainee
page link, say), so it never grows past that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.globals import _cv_request

MEMO_SIZE = 4096
SYNC_MEMO_SIZE = 1024
_KEYS = (str, int, type(None))


class App(Flask):
    """Flask, with :meth:`url_for` answered from a memo of what was built and
    :meth:`ensure_sync` from what it found (see the module's text)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._url_memo: dict[tuple[Any, ...], str] = {}
        self._plain_functions: set[Any] = set()

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        plain = self._plain_functions
        try:
            if func in plain:
                return func
        except TypeError:  # an unhashable callable: asked each time
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if wrapped is func:
            if len(plain) >= SYNC_MEMO_SIZE:
                plain.clear()
            plain.add(func)
        return wrapped

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values: Any,
    ) -> str:
        ctx = _cv_request.get(None)
        if (
            ctx is None
            or _anchor is not None
            or _method is not None
            or _scheme is not None
            or _external is not None
            or endpoint[:1] == "."
            or any(self.url_default_functions.values())
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        for value in values.values():
            if type(value) not in _KEYS:
                return super().url_for(endpoint, **values)
        adapter = ctx.url_adapter
        key = (
            endpoint,
            adapter.server_name,
            adapter.script_name,
            adapter.url_scheme,
            adapter.subdomain,
            adapter.default_method,
            *values.items(),
        )
        memo = self._url_memo
        url = memo.get(key)
        if url is None:
            url = super().url_for(endpoint, **values)
            if len(memo) >= MEMO_SIZE:
                memo.clear()
            memo[key] = url
        return url
