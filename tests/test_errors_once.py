"""An error is said once, beside the field it is about (issue 11 point 8): not again in a
flash above the page, not repeated word for word in the summary at the top of the form (the
summary names the fields and links to them)."""

from __future__ import annotations

import re

ADMISSION = {
    "first_name": "Hamza",
    "last_name": "Ouazzani",
    "birth_date": "1988-08-08",
    "sex": "M",
    "establishment": "EST-A",
    "legal_status": "pretrial",
}


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _admit(client, login_as, app, factories, **changes):
    with app.app_context():
        factories.establishment("EST-A")
    login_as("registry_clerk", "EST-A")
    return client.post(
        "/detainees/new", data={**ADMISSION, **changes}, headers={"Accept-Language": "en"}
    )


def test_a_form_error_is_shown_once_tied_to_its_field(app, client, login_as, factories):
    resp = _admit(client, login_as, app, factories, birth_date="2999-01-01")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    text = _visible_text(html)
    message = "This birth date is not plausible."
    assert text.count(message) == 1, text
    # tied to the field: its error paragraph is the one the input points to
    error = re.search(r'<p class="error" id="birth_date-error">(.*?)</p>', html, re.S)
    assert error and message in error.group(1)
    assert re.search(r'<input[^>]*aria-describedby="[^"]*birth_date-error', html)
    # the summary links to the field by its name, without repeating the message
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S).group(0)
    assert 'href="#birth_date"' in summary and message not in summary
    # the heading is said once, not flashed as well
    assert text.count("Please correct the highlighted fields.") == 1


def test_a_form_validation_error_is_shown_once(app, client, login_as, factories):
    resp = _admit(client, login_as, app, factories, sex="X")
    assert resp.status_code in (200, 422)
    text = _visible_text(resp.get_data(as_text=True))
    assert text.count("Choose one of the allowed values.") == 1, text
    assert text.count("Please correct the highlighted fields.") == 1


def test_messages_no_field_shows_are_flashed_once(app):
    from flask import get_flashed_messages

    from core.errors import ValidationFailed
    from core.forms import IdmajForm
    from core.portal.access import apply_errors

    class OneField(IdmajForm):
        class Meta:
            csrf = False

    with app.test_request_context("/"):
        apply_errors(OneField(), ValidationFailed("Not saved.", fields={"elsewhere": "Late."}))
        assert get_flashed_messages() == ["Not saved.", "Late."]
    with app.test_request_context("/"):
        apply_errors(OneField(), ValidationFailed("Late.", fields={"elsewhere": "Late."}))
        assert get_flashed_messages() == ["Late."]
    with app.test_request_context("/"):
        apply_errors(OneField(), ValidationFailed("Not saved."))
        assert get_flashed_messages() == ["Not saved."]
