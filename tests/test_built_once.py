"""Hot reads build their statement once (``core.db.built_once``): the kept statement takes its
values as parameters, so two calls never share a value, and the query layer's scoping still
applies to whoever runs it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, select

from core.db import built_once
from core.detainees.models import Detainee
from core.detainees.services import _by_number, get_detainee
from core.errors import NotFound


def test_the_statement_is_built_once_and_keeps_its_cache_key() -> None:
    calls: list[int] = []

    @built_once
    def by_id() -> Any:
        calls.append(1)
        return select(Detainee).where(Detainee.id == bindparam("id"))

    first = by_id()
    assert by_id() is first and calls == [1]
    assert first._generate_cache_key() is first._generate_cache_key()  # memoised, not redone


def test_a_kept_statement_reads_each_caller_s_own_record_in_their_scope(app, factories) -> None:
    with app.app_context():
        here = factories.detainee("EST-A", first_name="Ali").registration_number
        there = factories.detainee("EST-B", first_name="Badr").registration_number
        clerk = factories.user("registry_clerk", ("EST-A",))
        central = factories.user("central_admin", ())
        statement = _by_number()
        assert get_detainee(here, central).first_name == "Ali"
        assert get_detainee(there, central).first_name == "Badr"  # not the first caller's
        assert _by_number() is statement
    with app.app_context():  # another request: the clerk of EST-A, after the central admin
        assert get_detainee(here, clerk).first_name == "Ali"
        with pytest.raises(NotFound):
            get_detainee(there, clerk)
