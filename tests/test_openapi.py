"""The OpenAPI document: generated from the code, valid OpenAPI 3.1, complete (every /api/v1
route), and each operation documents its error responses."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate

from core.api.toolkit import API_PREFIX


@pytest.fixture
def doc(client):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.is_json
    return resp.json


def _api_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX) and rule.rule != f"{API_PREFIX}/openapi.json":
            yield rule


def _path(rule) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-zA-Z_]+)>", r"{\1}", rule.rule[len(API_PREFIX) :])


def test_document_is_valid_openapi(doc):
    validate(doc)
    assert doc["openapi"].startswith("3.")
    assert doc["servers"] == [{"url": API_PREFIX}]


def test_document_is_public_and_needs_no_token(client):
    assert client.get("/api/v1/openapi.json").status_code == 200


def test_every_api_route_is_documented(app, doc):
    missing = []
    for rule in _api_rules(app):
        ops = doc["paths"].get(_path(rule), {})
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if method.lower() not in ops:
                missing.append(f"{method} {rule.rule}")
    assert not missing, missing


def test_interface_endpoints_are_documented(doc):
    for path, method in [
        ("/auth/token", "post"),
        ("/establishments", "get"),
        ("/establishments", "post"),
        ("/users", "post"),
        ("/visitors/register", "post"),
        ("/detainees", "post"),
        ("/detainees", "get"),
        ("/detainees/{registration_number}", "get"),
        ("/detainees/{registration_number}/release", "post"),
        ("/audit/events", "get"),
    ]:
        assert method in doc["paths"][path], (method, path)


def _operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_each_operation_documents_its_errors(doc):
    error_ref = {"$ref": "#/components/schemas/Error"}
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        responses = op["responses"]
        success = [c for c in responses if c.startswith("2")]
        assert success, where
        errors = [c for c in responses if c.startswith("4")]
        assert errors, where
        for code in errors:
            assert responses[code]["content"]["application/json"]["schema"] == error_ref, where
        if op.get("security"):
            assert "401" in responses, where
        if "requestBody" in op:
            assert {"400", "422"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where
        if any(p["in"] == "query" for p in op.get("parameters", [])):
            assert "400" in responses, where
        assert op.get("operationId") and op.get("summary"), where


def test_operation_ids_are_unique(doc):
    ids = [op["operationId"] for _, _, op in _operations(doc)]
    assert len(ids) == len(set(ids))


def test_core_schemas_match_the_interface(doc):
    schemas = doc["components"]["schemas"]
    record = set(schemas["DetaineeOut"]["properties"])
    assert record == {
        "registration_number",
        "first_name",
        "last_name",
        "first_name_ar",
        "last_name_ar",
        "birth_date",
        "sex",
        "national_id",
        "establishment",
        "legal_status",
        "admitted_at",
    }
    assert {"code", "name", "kind", "capacity"} <= set(schemas["EstablishmentIn"]["required"])
    est_list = doc["paths"]["/establishments"]["get"]
    params = {p["name"]: p for p in est_list["parameters"]}
    assert params["per_page"]["schema"]["maximum"] == 100
    assert params["per_page"]["schema"]["default"] == 20
    ok = est_list["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(ok["required"]) == {"items", "total", "page", "per_page"}
    release = doc["paths"]["/detainees/{registration_number}/release"]["post"]
    assert "409" in release["responses"]
    assert "409" in doc["paths"]["/detainees"]["post"]["responses"]
    audit = doc["paths"]["/audit/events"]["get"]
    assert {p["name"] for p in audit["parameters"]} == {
        "action",
        "object_type",
        "object_id",
        "establishment",
        "actor",
        "from",
        "to",
        "page",
        "per_page",
    }
    assert {"400", "401", "403", "422"} <= set(audit["responses"])
    items = audit["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
    assert set(schemas["AuditEventOut"]["properties"]) == {
        "id",
        "occurred_at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "establishment",
        "summary",
    }
    assert items["items"]["items"] == {"$ref": "#/components/schemas/AuditEventOut"}


def test_documented_operations_answer_errors_in_the_documented_format(app, client, doc):
    """A schemathesis-like smoke: each documented operation, called without credentials or with
    an empty body, answers one of its documented statuses with the error format."""
    for path, method, op in _operations(doc):
        url = API_PREFIX + re.sub(r"\{[^}]+\}", "2020-000001", path)
        kwargs = {"data": b"{", "content_type": "application/json"} if method != "get" else {}
        resp = client.open(url, method=method.upper(), **kwargs)
        assert str(resp.status_code) in op["responses"] or resp.status_code == 429, (
            method,
            path,
            resp.status_code,
        )
        if resp.status_code >= 400:
            assert set(resp.json["error"]) >= {"code", "message", "fields"}
