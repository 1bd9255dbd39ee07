"""JSON endpoints (blueprint ``example_api`` under ``/api/v1/example``): CSRF-exempt, bearer
tokens, and listed in ``/api/v1/openapi.json`` because they are declared with ``@endpoint``."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from core.api.toolkit import ApiModel, endpoint
from core.identity.models import User
from idmaj_example import services

bp = Blueprint("example_api", __name__, url_prefix="/api/v1/example")


class ItemIn(ApiModel):
    name: str
    price: str
    category: str


@bp.get("/items")
@endpoint("The canteen catalogue", permission="example.view", tags=["example"])
def list_items(user: User) -> dict[str, Any]:
    return {"items": [services.item_json(i) for i in services.list_items(user)]}


@bp.post("/items")
@endpoint(
    "Add an item to the canteen catalogue",
    body=ItemIn,
    status=201,
    permission="example.manage",
    tags=["example"],
    errors=(409, 422),
)
def add_item(body: ItemIn, user: User) -> dict[str, Any]:
    return services.item_json(services.add_item(body.model_dump(), user))
