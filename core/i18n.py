"""Languages: locale selection, Flask-Babel set-up, and locale-aware formatting.

The language is, in order:

1. the signed-in user's saved preference (the language switcher saves it, so a choice made
   there shows at once and follows the user to every device);
2. an explicit choice: ``?lang=`` on any URL or the switcher's form, kept in the session;
3. the browser's ``Accept-Language``;
4. Arabic (the families' pages are Arabic unless the visitor asks otherwise).

Formatting uses the Moroccan regional variants (``ar_MA``: 24-hour clock, يوليوز/غشت months,
``1.234,5``; ``fr_MA``). Times are stored in UTC and shown in Africa/Casablanca (Flask-Babel's
``BABEL_DEFAULT_TIMEZONE``), which follows Morocco's UTC+1 with the return to UTC+0 during
Ramadan.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations
from flask import Flask, current_app, g
from flask.globals import _cv_app, _cv_request
from flask_babel import (
    Babel,
    Domain,
    format_decimal,
    format_percent,
    get_domain,
    get_locale,
    ngettext,
)
from flask_babel import gettext as _
from flask_babel.speaklater import LazyString
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header

from core.config import DEFAULT_LOCALE, LANGUAGES, TIMEZONE
from core.contributions import TranslationDomain
from core.principals import request_user

CORE_TRANSLATIONS = TranslationDomain(
    directory=str(Path(__file__).resolve().parent / "translations"), domain="core"
)

RTL_LANGUAGES = frozenset({"ar"})

LANGUAGE_NAMES = {"ar": "العربية", "fr": "Français", "en": "English"}

# The locale Babel formats with, per language (gettext falls back from ar_MA to the ar catalog).
REGIONAL_LOCALES = {"ar": "ar_MA", "fr": "fr_MA", "en": "en"}

SESSION_KEY = "lang"


def choose_language() -> str:
    """The language (``ar``, ``fr`` or ``en``) of the current request; see the module doc."""
    ctx = _cv_request.get(None)  # the request and its user read without their proxies
    if ctx is None:
        return DEFAULT_LOCALE
    user = request_user()
    preference = getattr(user, "locale", None) if user and not user.is_anonymous else None
    if preference in LANGUAGES:
        return str(preference)
    request = ctx.request
    if request.query_string:  # the arguments parsed only when there are some
        explicit = request.args.get("lang")
        if explicit in LANGUAGES:
            ctx.session[SESSION_KEY] = explicit
            g.explicit_lang = explicit
            return str(explicit)
    chosen = ctx.session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    best = _best_language(request.environ.get("HTTP_ACCEPT_LANGUAGE", ""))
    if best:
        return best
    return str(current_app.config.get("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE))


@lru_cache(maxsize=256)
def _best_language(header: str) -> str | None:
    """The best of :data:`LANGUAGES` for an ``Accept-Language`` header (Werkzeug's parsing,
    kept per header text: browsers send the same few)."""
    best = parse_accept_header(header, LanguageAccept).best_match(LANGUAGES)
    return str(best) if best else None


def select_locale() -> Locale:
    """Flask-Babel's locale selector: the chosen language in its Moroccan regional form, as a
    Babel ``Locale`` made once per language (Flask-Babel parses a text answer again on every
    request: a file-system check and a new ``Locale``, a sixtieth of a profile page)."""
    return _regional_locale(REGIONAL_LOCALES.get(choose_language(), DEFAULT_LOCALE))


@cache
def _regional_locale(identifier: str) -> Locale:
    return Locale.parse(identifier)


def init_app(app: Flask, domains: list[TranslationDomain]) -> Babel:
    """Configure Flask-Babel with the plugins' domains first and the core's last."""
    ordered = [*domains, CORE_TRANSLATIONS]
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(d.directory for d in ordered)
    app.config["BABEL_DOMAIN"] = ";".join(d.domain for d in ordered)
    babel = Babel(app, locale_selector=select_locale)
    # Python's ``gettext``/``lazy_gettext`` ask the domain, the templates' ``_`` ask
    # :func:`request_translations`: both find the request's catalog in one look-up
    babel.domain_instance = RequestDomain(domain=app.config["BABEL_DOMAIN"])  # type: ignore[misc]
    app.jinja_env.globals.update(TEMPLATE_GETTEXT)
    _use_our_wtforms_translations()

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
    app.jinja_env.filters["local_day"] = local_day
    app.jinja_env.filters["time_of_day"] = show_time_of_day
    app.jinja_env.filters["number"] = show_number
    app.jinja_env.filters["percent"] = show_percent
    return babel


_KEPT = "idmaj_translations"


def _babel_state() -> Any:
    """Flask-Babel's per-context namespace (``g._flask_babel``), read without Werkzeug's
    proxies; ``None`` outside an app context or before Flask-Babel made it."""
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g.__dict__.get("_flask_babel")


def request_translations() -> NullTranslations:
    """The catalog of the current locale: Flask-Babel's ``get_translations()``, kept in the
    context beside the locale and domain it was made for.

    Flask-Babel finds it again on every call (five proxied look-ups of ``g``, the locale turned
    into a string, a dictionary look-up): a page with forty translated strings paid that forty
    times. The kept catalog is used only while Flask-Babel's locale and domain are the very
    objects it was made for, so ``force_locale`` (a message in its reader's language),
    ``refresh()`` and a domain made the default for the request change it at once."""
    state = _babel_state()
    if state is not None:
        kept = state.__dict__.get(_KEPT)
        if (
            kept is not None
            and kept[0] is state.__dict__.get("babel_locale")
            and kept[1] is state.__dict__.get("babel_domain")
        ):
            return kept[2]
    domain = get_domain()
    if isinstance(domain, RequestDomain):  # its own look-up, not the kept one (this one)
        translations = Domain.get_translations(domain)
    else:
        translations = domain.get_translations()
    state = _babel_state()
    if state is not None:
        attrs = state.__dict__
        attrs[_KEPT] = (attrs.get("babel_locale"), attrs.get("babel_domain"), translations)
    return translations


class RequestDomain(Domain):
    """The application's Flask-Babel domain, its catalog found by
    :func:`request_translations` (the domain's own look-up, once per locale and context)."""

    def get_translations(self) -> NullTranslations:
        state = _babel_state()
        if state is not None and state.__dict__.get("babel_domain") is self:
            return request_translations()
        return super().get_translations()


def _request_gettext(string: str, **variables: Any) -> str:
    """Flask-Babel's ``gettext`` (the catalog of the request's locale and domain, then ``%``
    with the variables given), reading the catalog through :func:`request_translations`."""
    rv = request_translations().ugettext(string)
    return rv % variables if variables else rv


def lazy_gettext(string: str, **variables: Any) -> LazyString:
    """Flask-Babel's ``lazy_gettext``, translated when shown through the request's kept
    catalog: a label shown on every page (navigation, panel titles) found its catalog through
    five proxied look-ups each time. Imported as ``_l`` (the extraction keyword)."""
    return LazyString(_request_gettext, string, **variables)


_l = lazy_gettext


# The templates' gettext functions: Jinja's "new style" ones (the text marked safe when
# autoescaping, then always formatted with ``%``, ``num`` and ``context`` given by default),
# calling the request's catalog directly. Jinja's own pass through ``_`` to ``gettext`` to
# the function installed, each a ``Context.call``: a third of a translated string's cost.


def _new_style(context: Context, rv: str, variables: dict[str, Any]) -> str:
    if context.eval_ctx.autoescape:
        rv = Markup(rv)
    if not variables and "%" not in rv:  # what formatting would give back unchanged
        return rv
    return rv % variables


@pass_context
def _template_gettext(__context: Context, __string: str, **variables: Any) -> str:
    rv = request_translations().ugettext(__string)
    return _new_style(__context, rv, variables)


@pass_context
def _template_ngettext(
    __context: Context, __singular: str, __plural: str, __num: int, **variables: Any
) -> str:
    variables.setdefault("num", __num)
    rv = request_translations().ungettext(__singular, __plural, __num)
    return _new_style(__context, rv, variables)


@pass_context
def _template_pgettext(__context: Context, __ctx: str, __string: str, **variables: Any) -> str:
    variables.setdefault("context", __ctx)
    rv = request_translations().upgettext(__ctx, __string)
    return _new_style(__context, rv, variables)


@pass_context
def _template_npgettext(
    __context: Context, __ctx: str, __singular: str, __plural: str, __num: int, **variables: Any
) -> str:
    variables.setdefault("context", __ctx)
    variables.setdefault("num", __num)
    rv = request_translations().unpgettext(__ctx, __singular, __plural, __num)
    return _new_style(__context, rv, variables)


TEMPLATE_GETTEXT = {
    "_": _template_gettext,
    "gettext": _template_gettext,
    "ngettext": _template_ngettext,
    "pgettext": _template_pgettext,
    "npgettext": _template_npgettext,
}


class CountMessage:
    """A count message for a validator that formats its message with ``%`` (WTForms'
    ``Length(message=...)`` does ``message % {"min": ..., "max": ..., "length": ...}``): the
    right plural form is chosen by the value of ``key`` when the message is formatted, in the
    language of the request. Extracted with the ``count_message`` keyword."""

    def __init__(self, singular: str, plural: str, key: str) -> None:
        self.singular, self.plural, self.key = singular, plural, key

    def __mod__(self, values: dict[str, object]) -> str:
        return ngettext(self.singular, self.plural, int(values[self.key]), **values)  # type: ignore[call-overload]


def count_message(singular: str, plural: str, key: str) -> CountMessage:
    """``TOO_LONG = count_message("At most %(num)d character.", "At most %(num)d characters.",
    "max")``: see :class:`CountMessage`."""
    return CountMessage(singular, plural, key)


class WTFormsTranslations:
    """WTForms' own messages ("This field is required.", "Field cannot be longer than %(max)d
    characters."…) translated by our catalogs (the core's holds them, see
    ``core/wtforms_messages.py``), with Arabic's six plural forms; WTForms' shipped Arabic
    catalog lacks most of them, so its English showed on Arabic pages."""

    def gettext(self, string: str) -> str:
        return str(request_translations().ugettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(request_translations().ungettext(singular, plural, n))


WTFORMS_TRANSLATIONS = WTFormsTranslations()


def _use_our_wtforms_translations() -> None:
    """Every ``FlaskForm`` (Flask-WTF's ``Meta.get_translations`` would load WTForms' catalog)
    asks :data:`WTFORMS_TRANSLATIONS` instead."""
    from flask_wtf import FlaskForm

    FlaskForm.Meta.get_translations = lambda self, form: WTFORMS_TRANSLATIONS  # type: ignore[method-assign]


def _locale() -> Any:
    """Flask-Babel's ``get_locale()``: the locale it chose for this context, read from its
    namespace directly once chosen (a page of visiting times asks once a time), else chosen
    by Flask-Babel itself; ``force_locale`` sets that namespace, so it is followed."""
    state = _babel_state()
    if state is not None:
        locale = state.__dict__.get("babel_locale")
        if locale is not None:
            return locale
    return get_locale()


def current_language() -> str:
    locale = _locale()
    return locale.language if locale else "ar"


def text_direction() -> str:
    return "rtl" if current_language() in RTL_LANGUAGES else "ltr"


def local_zone() -> ZoneInfo:
    """The zone pages show times in, from the same database (``zoneinfo``) as the services that
    turn local opening hours into UTC (Flask-Babel would use pytz's copy, which can disagree)."""
    ctx = _cv_app.get(None)  # not through ``current_app``'s proxy: asked once a time shown
    name = ctx.app.config.get("BABEL_DEFAULT_TIMEZONE") if ctx is not None else None
    return _zone(name or TIMEZONE)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _local(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:  # stored UTC, read back naive on SQLite
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(local_zone())


def show_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    """A UTC timestamp shown in Africa/Casablanca, in the current locale."""
    if value is None:
        return ""
    local = _local(value)
    locale = _locale()
    layout = _datetime_layout(fmt, str(locale) if locale else None)
    if layout is None:
        return babel_dates.format_datetime(local, fmt, tzinfo=local.tzinfo, locale=locale)
    # what Babel does for these formats (its date-time pattern, the time, the date), each
    # part formatted once per value and locale: a page of dates repeats the same few
    name = str(locale) if locale else None
    return layout.replace(
        "{0}", _clock_text(local.hour, local.minute, local.second, fmt, name)
    ).replace("{1}", _date_text(local.date(), fmt, name))


_ZONE_FIELDS = frozenset("zZvVOxX")


@cache
def _datetime_layout(fmt: str, locale: str | None) -> str | None:
    """Babel's date-time pattern of ``fmt`` (``{1}`` the date, ``{0}`` the time, quotes
    removed as Babel removes them), or ``None`` when the parts cannot be formatted apart from
    the value's zone: a custom pattern, or a time pattern that shows the zone."""
    if fmt not in ("full", "long", "medium", "short"):
        return None
    time_pattern = babel_dates.get_time_format(fmt, locale=locale or DEFAULT_LOCALE).pattern
    fields = {
        value[0] for kind, value in babel_dates.tokenize_pattern(time_pattern) if kind == "field"
    }
    if fields & _ZONE_FIELDS:
        return None
    return str(babel_dates.get_datetime_format(fmt, locale=locale or DEFAULT_LOCALE)).replace(
        "'", ""
    )


@lru_cache(maxsize=4096)
def _clock_text(hour: int, minute: int, second: int, fmt: str, locale: str | None) -> str:
    return babel_dates.format_time(dt.time(hour, minute, second), fmt, locale=locale)


def local_day(value: dt.datetime) -> dt.date:
    """The local (Africa/Casablanca) date of a UTC timestamp: to group rows by day and format
    each day's heading once (``{{ day|date('full') }}``), not once a row."""
    return _local(value).date()


def show_time_of_day(value: dt.datetime | None, fmt: str = "HH:mm") -> str:
    """A UTC timestamp's local time of day, in the current locale: the same text as
    ``show_datetime(value, "HH:mm")``, formatted once per time and locale (a week of visiting
    times repeats the same few hours)."""
    if value is None:
        return ""
    local = _local(value)
    locale = _locale()
    return _time_text(local.hour, local.minute, fmt, str(locale) if locale else None)


@cache
def _time_text(hour: int, minute: int, fmt: str, locale: str | None) -> str:
    return babel_dates.format_time(dt.time(hour, minute), fmt, locale=locale)


def show_date(value: dt.date | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _local(value).date()
    locale = _locale()
    return _date_text(value, fmt, str(locale) if locale else None)


@lru_cache(maxsize=4096)
def _date_text(value: dt.date, fmt: str, locale: str | None) -> str:
    """A date in a locale, formatted once (a week of visiting days repeats the same few)."""
    return babel_dates.format_date(value, fmt, locale=locale)


def show_number(value: int | float | Decimal | None) -> str:
    if value is None:
        return ""
    return format_decimal(value)


#: two decimals, grouped: parsed once (Babel parses a pattern given as text on every call)
_CENTIMES_PATTERN = babel_numbers.parse_pattern("#,##0.00")


def show_centimes(centimes: int | None) -> str:
    """An amount kept in integer centimes, in the current locale with two decimals
    (``1 234,50`` in French, ``1,234.50`` in English): what
    ``format_decimal(Decimal(centimes) / 100, format="#,##0.00")`` gives, the pattern parsed
    once, each amount formatted once per locale (a page repeats its caps and prices). The
    currency is the caller's (``_("%(amount)s MAD", amount=…)``)."""
    if centimes is None:
        return ""
    locale = _locale()
    if locale is None:  # outside a request: Flask-Babel's default locale
        return str(format_decimal(Decimal(int(centimes)) / 100, format="#,##0.00"))
    return _centimes_text(int(centimes), locale)


@lru_cache(maxsize=4096)
def _centimes_text(centimes: int, locale: Any) -> str:
    return str(_CENTIMES_PATTERN.apply(Decimal(centimes) / 100, locale))


def show_percent(value: int | float | Decimal | None) -> str:
    """A ratio (``0.85``) as a percentage in the current locale (``85 %`` in French)."""
    if value is None:
        return ""
    return format_percent(value)


__all__ = [
    "_",
    "_l",
    "choose_language",
    "count_message",
    "current_language",
    "init_app",
    "lazy_gettext",
    "select_locale",
    "show_centimes",
    "show_date",
    "show_datetime",
    "show_number",
    "show_percent",
]
