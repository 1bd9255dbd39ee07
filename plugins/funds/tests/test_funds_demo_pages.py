"""The funds pages of the demo portal (``demo_app``) in Arabic: what the quality pass over the
demo fixed (moved here from the core's crawl, tests/test_crawl.py)."""

from __future__ import annotations

import re
from typing import Any

from core.testing import demo_client


def test_registration_and_receipt_numbers_are_isolated_from_arabic_text(demo_app: Any) -> None:
    """Without isolation, '2025-000001' after Arabic text shows as '000001-2025'."""
    client = demo_client(demo_app, "accountant", "ar")
    headers = {"Accept-Language": "ar"}
    listing = client.get("/funds/", headers=headers).get_data(as_text=True)
    rn = re.search(r'href="/funds/accounts/([0-9-]+)"', listing)
    assert rn
    account = client.get(f"/funds/accounts/{rn.group(1)}", headers=headers).get_data(as_text=True)
    assert f'<bdi dir="ltr" class="rn">{rn.group(1)}</bdi>' in account
    journal = client.get("/funds/CAS-AS/journal", headers=headers).get_data(as_text=True)
    assert re.search(r'<bdi dir="ltr" class="funds-code">CAS-AS-\d{4}-\d+</bdi>', journal)
    assert re.search(r'<bdi dir="ltr" class="rn">\d{4}-\d+</bdi>', journal)
