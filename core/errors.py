"""Errors raised by services, understood by pages, API and CLI alike.

Each carries a snake_case ``code``, a localised ``message`` and optional per-field messages;
the API turns them into ``{"error": {"code", "message", "fields"}}`` with the status below, the
pages into a flash message or errors tied to form fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DomainError(Exception):
    status = 422
    default_code = "rule_broken"

    def __init__(
        self,
        message: Any,
        *,
        code: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = message
        self.code = code or self.default_code
        self.fields: dict[str, Any] = dict(fields or {})


class ValidationFailed(DomainError):
    """Valid JSON or a submitted form whose values break a rule (422)."""

    status = 422
    default_code = "validation_failed"


class Malformed(DomainError):
    """A request that cannot be read at all (400)."""

    status = 400
    default_code = "malformed_request"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Forbidden(DomainError):
    status = 403
    default_code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    default_code = "unauthorized"


class TooManyRequests(DomainError):
    """Too many attempts (429 ``too_many_requests``); ``retry_after`` seconds become the
    ``Retry-After`` header."""

    status = 429
    default_code = "too_many_requests"

    def __init__(self, message: Any, *, retry_after: int = 1, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = max(1, int(retry_after))


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    status = 409
    default_code = "conflict"


class Blocked(DomainError):
    """Modules vetoed the action (release or move): 422 ``blocked``, with every blocker —
    ``{code, module, message, overridable}`` — in ``fields.blockers`` (see :mod:`core.vetoes`)."""

    status = 422
    default_code = "blocked"

    def __init__(self, message: Any, blockers: Sequence[Any]) -> None:
        self.blockers = list(blockers)
        super().__init__(message, fields={"blockers": [b.as_json() for b in self.blockers]})

    @property
    def reasons(self) -> list[str]:
        """The blockers' messages, as the pages list them."""
        return [str(b.message) for b in self.blockers]
