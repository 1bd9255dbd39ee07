"""Bad input for every page and endpoint, shared by the core's tests and every module's.

:func:`walk_queries` requests every ``GET`` route of the app (or of some blueprints) with
huge page numbers, extreme dates, NUL and CR/LF in every query parameter any page reads, and
returns the requests that answered a 5xx. :func:`post_values` sends one form or JSON body
again and again with one field set to each bad value. A module's test passes the values of its
URL variables (``rn``, ``reference``…) so that its real pages, not 404s, are walked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

HUGE = "9" * 30
BAD_QUERY_VALUES: dict[str, str] = {
    "huge number": HUGE,
    "huge negative number": "-" + HUGE,
    "beyond int64": str(2**63),
    "last day": "9999-12-31",
    "first day": "0001-01-01",
    "timestamp at the end of time": "9999-12-31T23:59:59+14:00",
    "timestamp at the start of time": "0001-01-01T00:00:00-12:00",
    "NUL": "a\x00b",
    "CR/LF": "/x\r\nSet-Cookie: evil=1",
    "long": "x" * 5000,
}
"""Values every query parameter is given all at once; some also alone (:data:`ONE_AT_A_TIME`)."""

QUERY_NAMES = (
    "page",
    "per_page",
    "q",
    "establishment",
    "detainee",
    "day",
    "date",
    "from",
    "to",
    "next",
    "lang",
    "print",
    "action",
    "actor",
    "object_type",
    "object_id",
    "status",
)
"""The query parameters the pages and endpoints read (``request.args.get(...)``)."""

ONE_AT_A_TIME: dict[str, tuple[str, ...]] = {
    "huge number": ("page", "per_page", "object_id"),
    "last day": ("day", "date", "from", "to"),
    "first day": ("day", "date", "from", "to"),
    "NUL": ("q", "establishment", "detainee", "action", "actor", "next"),
    "CR/LF": ("next", "lang"),
}
"""The values also sent alone, to the parameters that read them (one that refuses another
parameter first cannot hide them)."""

BAD_BODY_DATES = ("9999-12-31", "0001-01-01", "10000-01-01", "1899-12-31", "3000-01-01")
BAD_BODY_TIMESTAMPS = (
    "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00-12:00",
    "0001-01-01T00:00:00+00:00",
)
BAD_TEXTS = ("Ha\x00mza", "\x00", "line\r\nbreak\x00")


def _fill(rule: Any, variables: Mapping[str, Any]) -> str | None:
    """The rule's path with its variables filled in; ``None`` when one is unknown."""
    path = rule.rule
    for name in rule.arguments:
        if name not in variables:
            return None
        for converter in ("", "int:", "path:", "string:"):
            path = path.replace(f"<{converter}{name}>", str(variables[name]))
    return path


def get_routes(
    app: Any,
    *,
    blueprints: Iterable[str] | None = None,
    variables: Mapping[str, Any],
    only_with: Iterable[str] | None = None,
    prefixes: Iterable[str] | None = None,
) -> list[str]:
    """Every ``GET`` route (static files left out) of ``blueprints`` (all when ``None``)
    whose URL variables ``variables`` can fill; with ``only_with``, only the routes having
    one of those variables (the others were walked already), and with ``prefixes`` only the
    paths starting with one of them."""
    wanted = set(blueprints) if blueprints is not None else None
    needed = set(only_with) if only_with is not None else None
    out: list[str] = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or ()) or rule.endpoint.endswith("static"):
            continue
        if needed is not None and not needed & set(rule.arguments):
            continue
        if prefixes is not None and not rule.rule.startswith(tuple(prefixes)):
            continue
        blueprint = rule.endpoint.rpartition(".")[0]
        if wanted is not None and blueprint not in wanted:
            continue
        path = _fill(rule, variables)
        if path is not None:
            out.append(path)
    return sorted(set(out))


def walk_queries(
    client: Any, paths: Iterable[str], *, headers: Mapping[str, str] | None = None
) -> list[tuple[str, str, int]]:
    """GET each path with every bad value in every parameter (one at a time, then all at
    once); the ``(path, what, status)`` of every answer of 500 or more."""
    failures: list[tuple[str, str, int]] = []
    for path in paths:
        for what, value in BAD_QUERY_VALUES.items():
            queries = [dict.fromkeys(QUERY_NAMES, value)]
            queries += [{name: value} for name in ONE_AT_A_TIME.get(what, ())]
            for query in queries:
                resp = client.get(path, query_string=query, headers=dict(headers or {}))
                if resp.status_code >= 500:
                    failures.append((path, f"{what} in {','.join(query)}", resp.status_code))
    return failures


def post_values(
    send: Callable[[dict[str, Any]], Any],
    good: Mapping[str, Any],
    fields: Mapping[str, Iterable[Any]],
) -> list[tuple[str, Any, int]]:
    """``send(body)`` once per (field, bad value); the ``(field, value, status)`` of every
    answer of 500 or more, and of every bad value accepted (a 2xx or 3xx)."""
    failures: list[tuple[str, Any, int]] = []
    for name, values in fields.items():
        for value in values:
            resp = send({**good, name: value})
            if resp.status_code >= 500 or resp.status_code < 400:
                failures.append((name, value, resp.status_code))
    return failures


__all__ = [
    "BAD_BODY_DATES",
    "BAD_BODY_TIMESTAMPS",
    "BAD_QUERY_VALUES",
    "BAD_TEXTS",
    "ONE_AT_A_TIME",
    "QUERY_NAMES",
    "get_routes",
    "post_values",
    "walk_queries",
]
