"""Request and response models of the core's JSON API (they also feed the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from core.api.toolkit import ApiModel
from core.identity.passwords import MAX_PASSWORD_LENGTH

# A password is never stripped (the forms do not strip it either): only normalised, see
# core.identity.passwords.normalise_password.
Password = Annotated[str, StringConstraints(strip_whitespace=False, max_length=MAX_PASSWORD_LENGTH)]


class TokenIn(ApiModel):
    username: str = Field(max_length=80)
    password: Password
    # only accounts with a second factor send it (401 otp_required without it)
    otp: str | None = Field(None, max_length=12)


class TokenOut(BaseModel):
    token: str
    expires_at: dt.datetime


class EstablishmentIn(ApiModel):
    code: str = Field(max_length=16)
    name: str = Field(max_length=200)
    name_ar: str = Field("", max_length=200)
    kind: Literal["local_prison", "central_prison", "agricultural_prison", "reform_centre"]
    capacity: int = Field(strict=True)
    region: str = Field("", max_length=120)
    city: str = Field("", max_length=120)
    city_ar: str = Field("", max_length=120)


class EstablishmentOut(BaseModel):
    code: str
    name: str
    name_ar: str
    name_fr: str
    kind: str
    region: str
    capacity: int
    population: int


class UserIn(ApiModel):
    username: str = Field(max_length=80)
    password: Password
    full_name: str = Field(max_length=200)
    roles: list[str] = Field(max_length=11)
    establishments: list[str] = Field(default_factory=list, max_length=100)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    roles: list[str]
    establishments: list[str]


class VisitorIn(ApiModel):
    username: str = Field(max_length=80)
    password: Password
    full_name: str = Field(max_length=200)
    national_id: str = Field(max_length=20)
    phone: str = Field(max_length=40)


class DetaineeIn(ApiModel):
    first_name: str
    last_name: str
    first_name_ar: str | None = None
    last_name_ar: str | None = None
    birth_date: str
    sex: Literal["M", "F"]
    national_id: str | None = None
    establishment: str
    legal_status: Literal["pretrial", "convicted"]


class DetaineeOut(BaseModel):
    registration_number: str
    first_name: str
    last_name: str
    first_name_ar: str
    last_name_ar: str
    birth_date: dt.date
    sex: str
    national_id: str | None
    establishment: str
    legal_status: str
    admitted_at: dt.datetime


class ReleaseIn(ApiModel):
    note: str = Field(default="", max_length=300)
    override: bool = False


class ReleaseOut(DetaineeOut):
    status: Literal["released"]
    released_at: dt.datetime


class AuditEventOut(BaseModel):
    id: int
    occurred_at: dt.datetime
    actor: str | None
    action: str
    object_type: str
    object_id: str
    establishment: str | None
    summary: dict


class MeOut(BaseModel):
    id: int
    username: str
    full_name: str
    phone: str | None
    email: str | None
    national_id: str | None
    roles: list[str]


class MeIn(ApiModel):
    full_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=40)


class CloseAccountIn(ApiModel):
    password: str = Field(max_length=200)


class CloseAccountOut(BaseModel):
    closed: bool
