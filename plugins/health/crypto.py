"""Clinical free text encrypted at rest (Fernet: AES-128-CBC + HMAC-SHA256, from
``cryptography``), with key rotation.

Keys come from the environment: ``IDMAJ_HEALTH_KEYS`` is a comma-separated list of Fernet keys
(``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``),
the first one encrypting, every one decrypting (:class:`cryptography.fernet.MultiFernet`). To
rotate: put a new key first, keep the old ones after it, restart, run ``idmaj health
rotate-key`` (every encrypted value is re-encrypted with the first key), then drop the old keys.

Outside production (``IDMAJ_ENV`` not ``production``: development, tests, the demo) a fixed
development key is used when none is given, and says so in the log; in production the app
refuses to start without a key (:func:`init_app`).

A column of type :class:`EncryptedText` holds the Fernet token (base64 text); the ORM encrypts
on write and decrypts on read, so services handle plain strings and a database dump holds no
clinical text.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import Flask, current_app, has_app_context
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

log = logging.getLogger("idmaj.health")
EXTENSION = "idmaj.health.crypto"
ENV_KEYS = "IDMAJ_HEALTH_KEYS"
DEV_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"idmaj health development key: never in production").digest()
)


class HealthKeyMissing(RuntimeError):
    """Production without ``IDMAJ_HEALTH_KEYS``: the app does not start."""


class HealthKeys:
    """The keys of one app: ``primary`` encrypts, every key decrypts."""

    def __init__(self, keys: list[bytes], *, development: bool = False) -> None:
        if not keys:
            raise HealthKeyMissing("no health key")
        self.fernets = [Fernet(k) for k in keys]
        self.multi = MultiFernet(self.fernets)
        self.development = development

    def encrypt(self, value: str) -> str:
        return self.multi.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self.multi.decrypt(token.encode("ascii")).decode("utf-8")

    def rotate(self, token: str) -> str:
        """The same plain text encrypted with the primary key."""
        return self.multi.rotate(token.encode("ascii")).decode("ascii")

    def is_primary(self, token: str) -> bool:
        try:
            self.fernets[0].decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True


def parse_keys(raw: str) -> list[bytes]:
    """``"k1,k2"`` → keys; a malformed key stops start-up with a clear message."""
    keys = [k.strip().encode("ascii") for k in raw.split(",") if k.strip()]
    for i, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except (ValueError, TypeError) as exc:
            raise HealthKeyMissing(
                f"{ENV_KEYS}: key {i} is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from exc
    return keys


def keys_from_config(config: Any) -> HealthKeys:
    raw = config.get("HEALTH_KEYS") or os.environ.get(ENV_KEYS, "")
    if raw:
        return HealthKeys(parse_keys(raw if isinstance(raw, str) else ",".join(raw)))
    if config.get("PRODUCTION") and not config.get("TESTING"):
        raise HealthKeyMissing(
            f"The health module needs its encryption key: set {ENV_KEYS} to one or more "
            "Fernet keys (comma-separated, the first encrypts). Generate one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())". '
            "Keep it outside the database and its backups: without it no health file can be "
            "read. (Or disable the module with IDMAJ_DISABLED_PLUGINS=health.)"
        )
    log.warning("health: %s is not set; using the development key (never in production)", ENV_KEYS)
    return HealthKeys([DEV_KEY], development=True)


def init_app(app: Flask) -> HealthKeys:
    keys = keys_from_config(app.config)
    app.extensions[EXTENSION] = keys
    return keys


def health_keys(app: Flask | None = None) -> HealthKeys:
    if app is None and not has_app_context():
        raise RuntimeError("health encryption needs an app context")
    return (app or current_app).extensions[EXTENSION]


def encrypt(value: str) -> str:
    return health_keys().encrypt(value)


def decrypt(token: str) -> str:
    return health_keys().decrypt(token)


class EncryptedText(TypeDecorator[str]):
    """Text encrypted with the app's health keys: plain ``str`` in Python, a Fernet token in
    the database. ``None`` stays ``NULL``; an empty string is encrypted too (a dump does not
    even say which notes are empty)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return encrypt(str(value))

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        if value is None:
            return None
        return decrypt(value)


def encrypted_columns(metadata: Any, prefix: str = "health_") -> list[tuple[str, str]]:
    """``(table, column)`` of every :class:`EncryptedText` column of the module's tables."""
    found = []
    for table in sorted(metadata.tables.values(), key=lambda t: t.name):
        if not table.name.startswith(prefix):
            continue
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                found.append((table.name, column.name))
    return found


def content_hash(parts: dict[str, Any]) -> str:
    """SHA-256 of a signed record's content (canonical JSON of its plain values)."""
    import json

    payload = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


__all__ = [
    "DEV_KEY",
    "ENV_KEYS",
    "EncryptedText",
    "HealthKeyMissing",
    "HealthKeys",
    "content_hash",
    "decrypt",
    "encrypt",
    "encrypted_columns",
    "health_keys",
    "init_app",
    "keys_from_config",
    "parse_keys",
]
