"""The funds JSON API (interface.md): balances, deposits, withdrawals, movements."""

from __future__ import annotations

from typing import Any, Literal

from flask import Blueprint
from pydantic import BaseModel, Field, field_validator

from core.api.idempotency import idempotent
from core.api.toolkit import ApiModel, endpoint, page_payload, pagination
from core.detainees.services import get_detainee
from core.identity.models import User
from plugins.funds import services
from plugins.funds.services import AmountError

bp = Blueprint("funds_api", __name__, url_prefix="/api/v1/funds")

AMOUNT_DOC = 'A positive amount in MAD as a string with at most two decimals, e.g. "125.50".'


def _check_amount(value: Any) -> str:
    try:
        services.parse_amount(value)
    except AmountError as exc:
        raise ValueError(str(exc)) from exc
    return value.strip()


class Depositor(ApiModel):
    name: str = Field(max_length=200)
    national_id: str = Field(max_length=20)


class DepositIn(ApiModel):
    amount: str = Field(description=AMOUNT_DOC, examples=["125.50"])
    source: Literal["family", "cash", "other"]
    depositor: Depositor | None = None
    memo: str = Field("", max_length=300)

    _amount = field_validator("amount", mode="before")(_check_amount)


class WithdrawalIn(ApiModel):
    amount: str = Field(description=AMOUNT_DOC, examples=["30.00"])
    reason: str = Field(max_length=300)

    _amount = field_validator("amount", mode="before")(_check_amount)


def _check_hold(value: Any) -> str:
    if isinstance(value, str) and value.strip() in ("0", "0.00"):
        return value.strip()
    return _check_amount(value)


class HoldIn(ApiModel):
    amount: str = Field(
        description='The amount in MAD to keep on hold ("0" lifts the hold), e.g. "50.00".',
        examples=["50.00"],
    )
    memo: str = Field(max_length=300)

    _amount = field_validator("amount", mode="before")(_check_hold)


class AccountOut(BaseModel):
    balance: str
    available: str
    savings: str
    currency: str
    held: str
    status: str
    registration_number: str


class MovementOut(BaseModel):
    id: int
    type: str
    amount: str
    direction: str
    signed_amount: str
    created_at: str
    receipt_number: str
    memo: str
    reverses: int | None


class MovementWithAccountOut(MovementOut):
    account: AccountOut


@bp.get("/accounts/<rn>")
@endpoint(
    "A detainee's balances (available + savings = balance)",
    response=AccountOut,
    permission="funds.view",
    tags=["funds"],
    errors=(403, 404),
)
def account(rn: str, user: User) -> dict[str, Any]:
    return services.view_account(rn, user).as_json()


@bp.post("/accounts/<rn>/deposits")
@endpoint(
    "Deposit money on a detainee's account (credited to available)",
    body=DepositIn,
    response=MovementWithAccountOut,
    status=201,
    permission="funds.write",
    tags=["funds"],
    errors=(403, 404, 409, 422),
    description="Honours the `Idempotency-Key` header: the same key returns the first result "
    "and moves no money; the same key with another body is a 409 `idempotency_key_reused`.",
)
@idempotent
def create_deposit(rn: str, body: DepositIn, user: User) -> dict[str, Any]:
    det = get_detainee(rn, user)
    depositor = body.depositor
    tx = services.deposit(
        det,
        user,
        amount=body.amount,
        source=body.source,
        depositor_name=depositor.name if depositor else "",
        depositor_national_id=depositor.national_id if depositor else "",
        memo=body.memo,
    )
    return services.deposit_payload(tx, tx.account)


@bp.post("/accounts/<rn>/withdrawals")
@endpoint(
    "Withdraw money from a detainee's available balance",
    body=WithdrawalIn,
    response=MovementWithAccountOut,
    status=201,
    permission="funds.write",
    tags=["funds"],
    errors=(403, 404, 409, 422),
    description="409 `insufficient_funds` when the available balance (less money on hold) does "
    "not cover the amount. Honours the `Idempotency-Key` header.",
)
@idempotent
def create_withdrawal(rn: str, body: WithdrawalIn, user: User) -> dict[str, Any]:
    det = get_detainee(rn, user)
    tx = services.withdraw(det, user, amount=body.amount, reason=body.reason)
    return services.deposit_payload(tx, tx.account)


@bp.get("/accounts/<rn>/transactions")
@endpoint(
    "A detainee's movements, newest first (one item per transaction)",
    response=MovementOut,
    permission="funds.view",
    tags=["funds"],
    paginated=True,
    errors=(403, 404),
)
def transactions(rn: str, user: User) -> dict[str, Any]:
    page, per_page = pagination()
    _view, items, total = services.list_transactions(rn, user, page, per_page)
    return page_payload([m.as_json() for m in items], total, page, per_page)


@bp.post("/accounts/<rn>/hold")
@endpoint(
    "Set the amount on hold on a detainee's account (0 lifts it)",
    body=HoldIn,
    response=AccountOut,
    permission="funds.write",
    tags=["funds"],
    errors=(403, 404, 409, 422),
    description="Money on hold cannot be spent nor paid out; it blocks a release, and a move "
    "to another establishment until lifted or overridden by a director. 409 "
    "`insufficient_funds` when the available balance is below the amount.",
)
def set_hold(rn: str, body: HoldIn, user: User) -> dict[str, Any]:
    det = get_detainee(rn, user)
    services.set_hold(det, user, amount=body.amount, memo=body.memo)
    return services.view_account(rn, user).as_json()
