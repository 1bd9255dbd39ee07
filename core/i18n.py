"""Languages: locale selection, Flask-Babel set-up, and locale-aware formatting.

The locale is, in order: the signed-in user's preference, an explicit choice (``?lang=`` kept in
the session), the browser's ``Accept-Language``, and Arabic. Times are stored in UTC and shown
in Africa/Casablanca.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from flask import Flask, current_app, g, request, session
from flask_babel import Babel, format_date, format_datetime, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from core.config import LANGUAGES
from core.contributions import TranslationDomain

CORE_TRANSLATIONS = TranslationDomain(
    directory=str(Path(__file__).resolve().parent / "translations"), domain="core"
)

RTL_LANGUAGES = frozenset({"ar"})

LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}


def select_locale() -> str:
    if "lang" in request.args and request.args["lang"] in LANGUAGES:
        session["lang"] = request.args["lang"]
        g.explicit_lang = request.args["lang"]
        return request.args["lang"]
    user = current_user if current_user and not current_user.is_anonymous else None
    if user is not None and getattr(user, "locale", None) in LANGUAGES:
        return user.locale
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    best = request.accept_languages.best_match(LANGUAGES)
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask, domains: list[TranslationDomain]) -> Babel:
    """Configure Flask-Babel with the plugins' domains first and the core's last."""
    ordered = [*domains, CORE_TRANSLATIONS]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(d.directory for d in ordered)
    app.config["BABEL_DOMAIN"] = ";".join(d.domain for d in ordered)
    babel = Babel(app, locale_selector=select_locale)

    @app.context_processor
    def _i18n_context() -> dict[str, object]:
        lang = current_language()
        return {
            "current_language": lang,
            "text_direction": "rtl" if lang in RTL_LANGUAGES else "ltr",
            "languages": LANGUAGE_NAMES,
        }

    app.jinja_env.filters["datetime"] = show_datetime
    app.jinja_env.filters["date"] = show_date
    app.jinja_env.filters["number"] = show_number
    return babel


def current_language() -> str:
    locale = get_locale()
    return locale.language if locale else "ar"


def text_direction() -> str:
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def show_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    """A UTC timestamp shown in Africa/Casablanca, in the current locale."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def show_date(value: dt.date | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    return format_date(value, fmt)


def show_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value)


__all__ = ["_", "_l", "current_language", "init_app", "show_date", "show_datetime"]
