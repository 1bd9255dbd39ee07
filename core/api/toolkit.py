"""The JSON API toolkit: endpoint declaration, validation, errors, pagination, OpenAPI.

Declare an endpoint with :func:`endpoint` on a blueprint route: it authenticates the bearer
token, checks the permission, validates the JSON body against a pydantic model, commits the
request's transaction once, and records everything the OpenAPI document needs::

    @bp.post("/detainees")
    @endpoint(body=DetaineeIn, status=201, permission="detainees.admit",
              summary="Admit a detainee", tags=["detainees"], responses=DetaineeOut)
    def admit(body: DetaineeIn, user: User): ...
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext as _
from pydantic import BaseModel, ConfigDict, ValidationError

from core.db import session as db_session
from core.errors import DomainError, Forbidden, Malformed, Unauthorized, ValidationFailed
from core.i18n import lazy_gettext as _l
from core.identity.models import User
from core.query_args import MAX_PAGE, date_in_range, query_int, query_page_unbounded

API_PREFIX = "/api/v1"
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 20


class ApiModel(BaseModel):
    """Base for request bodies: unknown fields are refused, strings are not coerced."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


@dataclass
class EndpointSpec:
    summary: str
    body: type[BaseModel] | None = None
    body_optional: bool = False
    response: type[BaseModel] | None = None
    status: int = 200
    permission: str | None = None
    auth: str = "bearer"  # "bearer" | "none" | "optional"
    tags: list[str] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    paginated: bool = False
    errors: tuple[int, ...] = ()
    description: str = ""
    # a multipart/form-data upload: the form field holding the files (read by the handler)
    files: str | None = None


def error_response(
    status: int, code: str, message: Any, fields: dict[str, Any] | None = None, **extra: Any
) -> Response:
    payload: dict[str, Any] = {"code": code, "message": str(message)}
    payload["fields"] = {
        k: (str(v) if not isinstance(v, list | dict) else v) for k, v in (fields or {}).items()
    }
    payload.update(extra)
    resp = jsonify({"error": payload})
    resp.status_code = status
    return resp


def domain_error_response(exc: DomainError) -> Response:
    extra: dict[str, Any] = {}
    reasons = getattr(exc, "reasons", None)
    if reasons:
        extra["reasons"] = reasons
    return error_response(exc.status, exc.code, exc.message, exc.fields, **extra)


_PYDANTIC_MESSAGES = {
    "missing": _l("This field is required."),
    "extra_forbidden": _l("This field is not expected."),
    "string_type": _l("Enter text."),
    "int_type": _l("Enter a whole number."),
    "int_parsing": _l("Enter a whole number."),
    "bool_type": _l("Enter true or false."),
    "list_type": _l("Enter a list."),
    "dict_type": _l("Enter an object."),
    "model_type": _l("Enter an object."),
    "date_type": _l("Enter a date as YYYY-MM-DD."),
    "date_from_datetime_parsing": _l("Enter a date as YYYY-MM-DD."),
    "date_parsing": _l("Enter a date as YYYY-MM-DD."),
    "datetime_type": _l("Enter a date and time with its offset (ISO 8601)."),
    "datetime_parsing": _l("Enter a date and time with its offset (ISO 8601)."),
    "timezone_aware": _l("Enter a date and time with its offset (ISO 8601)."),
    "string_too_long": _l("This text is too long."),
    "string_too_short": _l("This field is required."),
    "string_pattern_mismatch": _l("This value has the wrong format."),
    "literal_error": _l("Choose one of the allowed values."),
    "enum": _l("Choose one of the allowed values."),
    "greater_than_equal": _l("This number is too small."),
    "greater_than": _l("This number is too small."),
    "less_than_equal": _l("This number is too large."),
    "too_long": _l("Too many items."),
    "too_short": _l("Too few items."),
}


def _localised_pydantic_message(kind: str) -> str:
    return str(_PYDANTIC_MESSAGES.get(kind, _l("This value is not valid.")))


def validation_failed_from_pydantic(exc: ValidationError) -> ValidationFailed:
    fields: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "body"
        custom = err.get("ctx", {}).get("error") if err.get("ctx") else None
        if err["type"] == "value_error" and custom is not None:
            fields.setdefault(loc, str(getattr(custom, "args", [custom])[0]))
        else:
            fields.setdefault(loc, _localised_pydantic_message(err["type"]))
    return ValidationFailed(_("Please correct the highlighted fields."), fields=fields)


def read_json_object() -> dict[str, Any]:
    raw = request.get_data(cache=True)
    if not raw:
        raise Malformed(_("The request body must be a JSON object."), code="malformed_json")
    try:
        data = json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Malformed(_("The request body is not valid JSON."), code="malformed_json") from exc
    if not isinstance(data, dict):
        raise Malformed(_("The request body must be a JSON object."), code="malformed_json")
    if not _storable(data):
        raise Malformed(
            _("The request body contains characters that cannot be stored."),
            code="malformed_json",
        )
    return data


def _dates_out_of_range(value: Any, path: str) -> Iterator[str]:
    if isinstance(value, dt.date):  # a datetime is a date too
        if not date_in_range(value):
            yield path or "body"
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _dates_out_of_range(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _dates_out_of_range(item, f"{path}.{i}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _dates_out_of_range(item, f"{path}.{key}")


def refuse_dates_out_of_range(body: BaseModel) -> None:
    """422 naming every date or timestamp of ``body`` outside ``core.query_args``' calendar
    (1900-01-01 to 2999-12-31): ``9999-12-31`` would overflow the day after, ``0001-01-01`` a
    time-zone conversion, and PostgreSQL's range checks would answer a 500."""
    bad = list(_dates_out_of_range(body, ""))
    if bad:
        from core.forms import date_range_message

        raise ValidationFailed(
            _("Please correct the highlighted fields."),
            fields={path: date_range_message() for path in bad},
        )


def _storable(value: Any) -> bool:
    """No NUL characters nor lone surrogates: neither can be stored as text by the databases."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return False
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def bearer_user() -> User | None:
    """The user of the request's bearer token (cached on ``g``)."""
    if "api_user" in g:
        return g.api_user
    from core.identity.services import user_for_token

    header = request.headers.get("Authorization", "")
    user = None
    if header.lower().startswith("bearer "):
        user = user_for_token(header[7:].strip())
    g.api_user = user
    return user


def pagination(*, max_page: int | None = MAX_PAGE) -> tuple[int, int]:
    """``?page=&per_page=`` read by ``core.query_args``: 400 ``bad_query`` when out of range.

    ``max_page=None`` is for a query layer that answers any page number itself (a page past
    the end is empty without reaching the database, as the audit trail's does).
    """
    errors: dict[str, str] = {}
    try:
        if max_page is None:
            page = query_page_unbounded(request.args.get("page"))
        else:
            page = query_int(request.args.get("page"), default=1, minimum=1, maximum=max_page)
    except ValueError:
        errors["page"] = (
            _("Enter a whole number of at least 1.")
            if max_page is None
            else _("Enter a whole number from 1 to %(n)d.", n=max_page)
        )
        page = 1
    try:
        per_page = query_int(
            request.args.get("per_page"), default=DEFAULT_PER_PAGE, minimum=1, maximum=MAX_PER_PAGE
        )
    except ValueError:
        errors["per_page"] = _("Enter a whole number from 1 to %(n)d.", n=MAX_PER_PAGE)
        per_page = DEFAULT_PER_PAGE
    if errors:
        raise Malformed(
            _("Please correct the highlighted fields."), code="bad_query", fields=errors
        )
    return page, per_page


def page_payload(items: list[Any], total: int, page: int, per_page: int) -> dict[str, Any]:
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def page_of(rows: Sequence[Any], serialize: Callable[[Any], Any]) -> dict[str, Any]:
    """One page (``?page=&per_page=``) of an already loaded list, serialised."""
    page, per_page = pagination()
    chunk = rows[(page - 1) * per_page : page * per_page]
    return page_payload([serialize(row) for row in chunk], len(rows), page, per_page)


def endpoint(
    summary: str,
    *,
    body: type[BaseModel] | None = None,
    body_optional: bool = False,
    response: type[BaseModel] | None = None,
    status: int = 200,
    permission: str | None = None,
    auth: str = "bearer",
    tags: list[str] | None = None,
    query: dict[str, str] | None = None,
    paginated: bool = False,
    errors: tuple[int, ...] = (),
    description: str = "",
    files: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare an API endpoint (see the module docstring).

    The wrapped function receives ``user`` (or ``None`` with ``auth="none"``), ``body`` (the
    validated model) when ``body`` is given — with ``body_optional`` an empty request body
    counts as ``{}`` — and the URL's variables. It returns a dict or list
    (serialised with ``status``) or a :class:`flask.Response`. With ``files`` (a form field
    name) the OpenAPI document declares a ``multipart/form-data`` body of files in that field;
    the handler reads ``request.files`` itself.
    """
    spec = EndpointSpec(
        summary=summary,
        body=body,
        body_optional=body_optional,
        response=response,
        status=status,
        permission=permission,
        auth=auth,
        tags=list(tags or []),
        query=dict(query or {}),
        paginated=paginated,
        errors=errors,
        description=description,
        files=files,
    )

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(**kwargs: Any) -> Any:
            user = bearer_user()
            if spec.auth == "bearer" and user is None:
                raise Unauthorized(
                    _("Sign in first: send a valid bearer token."), code="unauthorized"
                )
            if spec.permission is not None:
                from core.identity.services import has_permission

                if not has_permission(user, spec.permission):
                    raise Forbidden(_("You are not allowed to do this."))
            if spec.auth != "none":
                kwargs["user"] = user
            if spec.body is not None:
                data = read_json_object() if request.get_data() or not spec.body_optional else {}
                try:
                    kwargs["body"] = spec.body.model_validate(data)
                except ValidationError as exc:
                    raise validation_failed_from_pydantic(exc) from exc
                refuse_dates_out_of_range(kwargs["body"])
            result = fn(**kwargs)
            db_session().commit()
            if isinstance(result, Response):
                return result
            resp = current_app.json.response(result)
            resp.status_code = spec.status
            return resp

        wrapper.api_spec = spec  # type: ignore[attr-defined]
        return wrapper

    return decorate


def money(value: Decimal | int) -> str:
    """Money as a two-decimal string ("125.50"). Integers are centimes."""
    if isinstance(value, int):
        sign = "-" if value < 0 else ""
        value = abs(value)
        return f"{sign}{value // 100}.{value % 100:02d}"
    return f"{value.quantize(Decimal('0.01'))}"
