"""The OpenAPI 3.1 document, generated from the routes declared with ``@endpoint``."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask

from core.api.toolkit import API_PREFIX, EndpointSpec

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "snake_case error code"},
                "message": {"type": "string", "description": "localised text"},
                "fields": {"type": "object", "additionalProperties": True},
            },
        }
    },
}

_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    400: "Malformed request",
    401: "Not signed in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    422: "Breaks a rule",
}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-zA-Z_]+)>", r"{\1}", rule)


def _schema_ref(model: type, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")  # type: ignore[attr-defined]
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = sub
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def build_openapi(app: Flask) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    components: dict[str, Any] = {"Error": _ERROR_SCHEMA}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith(API_PREFIX):
            continue
        view = app.view_functions.get(rule.endpoint)
        spec: EndpointSpec | None = getattr(view, "api_spec", None)
        if spec is None:
            continue
        path = _path(rule.rule[len(API_PREFIX) :] or "/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op: dict[str, Any] = {
                "operationId": rule.endpoint.replace(".", "_") + "_" + method.lower(),
                "summary": spec.summary,
                "tags": spec.tags,
                "responses": {},
            }
            if spec.description:
                op["description"] = spec.description
            params = [
                {"name": arg, "in": "path", "required": True, "schema": {"type": "string"}}
                for arg in sorted(rule.arguments)
            ]
            for name, desc in spec.query.items():
                params.append(
                    {
                        "name": name,
                        "in": "query",
                        "required": False,
                        "description": desc,
                        "schema": {"type": "string"},
                    }
                )
            if spec.paginated:
                params += [
                    {
                        "name": "page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "default": 1},
                    },
                    {
                        "name": "per_page",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
                    },
                ]
            if params:
                op["parameters"] = params
            if spec.body is not None:
                op["requestBody"] = {
                    "required": not spec.body_optional,
                    "content": {"application/json": {"schema": _schema_ref(spec.body, components)}},
                }
            if spec.files:
                op["requestBody"] = {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": [spec.files],
                                "properties": {
                                    spec.files: {
                                        "type": "array",
                                        "items": {"type": "string", "format": "binary"},
                                    }
                                },
                            }
                        }
                    },
                }
            ok: dict[str, Any] = {"description": _STATUS_TEXT.get(spec.status, "OK")}
            if spec.response is not None:
                ref = _schema_ref(spec.response, components)
                if spec.paginated:
                    ref = {
                        "type": "object",
                        "required": ["items", "total", "page", "per_page"],
                        "properties": {
                            "items": {"type": "array", "items": ref},
                            "total": {"type": "integer"},
                            "page": {"type": "integer"},
                            "per_page": {"type": "integer"},
                        },
                    }
                ok["content"] = {"application/json": {"schema": ref}}
            op["responses"][str(spec.status)] = ok
            codes = set(spec.errors)
            if spec.auth == "bearer":
                codes |= {401}
                op["security"] = [{"bearer": []}]
            if spec.permission:
                codes.add(403)
            if spec.body is not None or spec.files:
                codes |= {400, 422}
            if spec.paginated or spec.query:
                codes.add(400)
            if rule.arguments:
                codes.add(404)
            for code in sorted(codes):
                op["responses"][str(code)] = {
                    "description": _STATUS_TEXT.get(code, "Error"),
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Idmaj API",
            "version": "1",
            "description": "The integrated information system of the prison administration. "
            "Money is a decimal string with two places (MAD); dates are ISO 8601 and "
            "timestamps carry their offset.",
        },
        "servers": [{"url": API_PREFIX}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
