"""Settings from the environment (see ``interface.md``): one place that reads ``IDMAJ_*``."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from core.files import private_dir

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE = PROJECT_ROOT / "instance"

LANGUAGES = ("ar", "fr", "en")
DEFAULT_LOCALE = "ar"
TIMEZONE = "Africa/Casablanca"


def _secret_key(instance: Path) -> str:
    """``IDMAJ_SECRET_KEY``, or a key generated once into ``instance/secret_key``."""
    value = os.environ.get("IDMAJ_SECRET_KEY")
    if value:
        return value
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    private_dir(instance)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _audit_key(instance: Path) -> str:
    """``IDMAJ_AUDIT_KEY`` (signs the audit checkpoints), or a key generated once into
    ``instance/audit_key`` (development and tests; production sets the variable)."""
    value = os.environ.get("IDMAJ_AUDIT_KEY")
    if value:
        return value
    path = instance / "audit_key"
    if path.exists():
        return path.read_text().strip()
    private_dir(instance)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process wrote it first
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _database_url(instance: Path) -> str:
    url = os.environ.get("IDMAJ_DATABASE_URL")
    if url:
        return url
    private_dir(instance)
    return f"sqlite:///{instance / 'idmaj.db'}"


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    instance = Path(overrides.pop("INSTANCE_PATH", None) or DEFAULT_INSTANCE)
    production = os.environ.get("IDMAJ_ENV", "development") == "production"
    config: dict[str, Any] = {
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": overrides.get("DATABASE_URL") or _database_url(instance),
        "SECRET_KEY": overrides.get("SECRET_KEY") or _secret_key(instance),
        # the audit checkpoints: signing key, and the file outside the database they go to
        "AUDIT_KEY": overrides.get("AUDIT_KEY") or _audit_key(instance),
        "AUDIT_ANCHOR_FILE": overrides.get("AUDIT_ANCHOR_FILE")
        or os.environ.get("IDMAJ_AUDIT_ANCHOR_FILE")
        or str(instance / "audit-anchors.jsonl"),
        "REDIS_URL": os.environ.get("IDMAJ_REDIS_URL") or None,
        # every key Idmaj writes to Redis starts with "<prefix>:" (one Redis, several apps)
        "REDIS_KEY_PREFIX": os.environ.get("IDMAJ_REDIS_KEY_PREFIX") or "idmaj",
        "DISABLED_PLUGINS": os.environ.get("IDMAJ_DISABLED_PLUGINS", ""),
        "PRODUCTION": production,
        # behind one reverse proxy (TLS terminated there): trust its X-Forwarded-* headers
        "PROXY_FIX": os.environ.get("IDMAJ_PROXY_FIX", "") in ("1", "true", "yes"),
        # sessions and cookies
        "SESSION_COOKIE_NAME": "idmaj_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        # forms
        "WTF_CSRF_ENABLED": True,
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
        # API
        "API_TOKEN_LIFETIME_SECONDS": 12 * 3600,
        # login throttling: failed attempts per account, and attempts per client address
        "LOGIN_RATE_LIMIT": "10 per minute; 50 per hour",
        "LOGIN_ADDRESS_RATE_LIMIT": "100 per minute; 1000 per hour",
        # one account from any address: past this many failures a day, a doubling delay
        "LOGIN_ACCOUNT_DELAY_AFTER": 20,
        "LOGIN_ACCOUNT_MAX_DELAY": 900,
        "LOGIN_ACCOUNT_WINDOW_SECONDS": 86400,
        "RATELIMIT_ENABLED": True,
        # languages
        "LANGUAGES": LANGUAGES,
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": TIMEZONE,
        # argon2id cost; the test harness lowers it
        "PASSWORD_HASH_PARAMS": {"time_cost": 3, "memory_cost": 65536, "parallelism": 2},
        "TESTING": False,
        # background work (core.tasks): the queue's SQLite file (Redis instead when REDIS_URL
        # is set); TASKS_IMMEDIATE runs tasks at once in the caller (tests)
        "TASKS_FILE": os.environ.get("IDMAJ_TASKS_FILE") or str(instance / "tasks.db"),
        "TASKS_IMMEDIATE": False,
        # notifications: tries per message before it ends as failed; first retry delay (doubled
        # at each further try)
        "NOTIFY_MAX_ATTEMPTS": int(os.environ.get("IDMAJ_NOTIFY_MAX_ATTEMPTS") or 5),
        "NOTIFY_RETRY_SECONDS": int(os.environ.get("IDMAJ_NOTIFY_RETRY_SECONDS") or 60),
    }
    config.update(overrides)
    return config
