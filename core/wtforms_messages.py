"""WTForms' built-in messages, listed so that ``core.i18n_tools update`` extracts them into the
core catalogs, where they are translated like ours (``core.i18n.WTFormsTranslations`` serves
them to every form). Only the messages our forms can show are listed: a field that is
required, too long or too short, a number or a date out of range or unreadable, a choice not
offered, and the CSRF token's."""

from __future__ import annotations

from flask_babel import gettext, ngettext


def messages() -> list[str]:
    """Every message once (never called by the app: the calls are there to be extracted; the
    tests call it to prove each is translated)."""
    return [
        gettext("This field is required."),
        gettext("Invalid input."),
        gettext("Invalid email address."),
        ngettext(
            "Field must be at least %(min)d character long.",
            "Field must be at least %(min)d characters long.",
            1,
        ),
        ngettext(
            "Field cannot be longer than %(max)d character.",
            "Field cannot be longer than %(max)d characters.",
            1,
        ),
        ngettext(
            "Field must be exactly %(max)d character long.",
            "Field must be exactly %(max)d characters long.",
            1,
        ),
        gettext("Field must be between %(min)d and %(max)d characters long."),
        gettext("Number must be at least %(min)s."),
        gettext("Number must be at most %(max)s."),
        gettext("Number must be between %(min)s and %(max)s."),
        gettext("Not a valid choice."),
        gettext("Invalid Choice: could not coerce."),
        gettext("Not a valid integer value."),
        gettext("Not a valid decimal value."),
        gettext("Not a valid float value."),
        gettext("Not a valid date value."),
        gettext("Not a valid datetime value."),
        gettext("Not a valid time value."),
        gettext("Invalid CSRF Token."),
        gettext("CSRF token missing."),
        gettext("CSRF failed."),
        gettext("CSRF token expired."),
    ]
