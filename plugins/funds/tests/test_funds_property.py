"""Property-based: any sequence of operations keeps every stored balance equal to the sum of its
postings, every transaction balanced, and no detainee balance below zero; the balances follow
a simple model of the rules."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.db import session
from core.errors import Conflict, ValidationFailed
from core.establishments.services import get_by_code
from core.principals import SYSTEM
from plugins.funds import services

amounts = st.integers(min_value=1, max_value=60_000).map(lambda c: f"{c // 100}.{c % 100:02d}")
operation = st.one_of(
    st.tuples(st.just("deposit"), st.integers(0, 2), amounts),
    st.tuples(st.just("purchase"), st.integers(0, 2), amounts),
    st.tuples(st.just("withdraw"), st.integers(0, 2), amounts),
    st.tuples(st.just("fee"), st.integers(0, 2), amounts),
    st.tuples(st.just("wage"), st.integers(0, 2), amounts),
    st.tuples(st.just("hold"), st.integers(0, 2), amounts),
    st.tuples(st.just("reverse"), st.integers(0, 50), st.just("")),
    st.tuples(st.just("bad"), st.integers(0, 2), st.sampled_from(["-1", "0", "1.001", "1e3"])),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=25))
def test_random_operations_keep_the_books_exact(app, factories, ops):
    with app.app_context():
        dets = [factories.detainee("EST-A") for _ in range(3)]
        est = get_by_code("EST-A")
        share = services.settings_for(est.id).savings_share_pct
        model = {d.id: {"available": 0, "savings": 0, "held": 0} for d in dets}
        done: list = []
        for kind, index, amount in ops:
            det = dets[index % 3]
            m = model[det.id]
            cents = services.parse_amount(amount) if kind != "bad" and amount else 0
            sp = session().begin_nested()
            try:
                if kind == "deposit":
                    tx = services.deposit(det, SYSTEM, amount=amount, source="cash")
                    m["available"] += cents
                elif kind in ("purchase", "withdraw", "fee"):
                    call = {
                        "purchase": lambda d=det, a=amount: services.purchase(d, SYSTEM, amount=a),
                        "withdraw": lambda d=det, a=amount: services.withdraw(
                            d, SYSTEM, amount=a, reason="r"
                        ),
                        "fee": lambda d=det, a=amount: services.charge_fee(
                            d, SYSTEM, amount=a, memo="f"
                        ),
                    }[kind]
                    if m["available"] - m["held"] < cents:
                        try:
                            call()
                        except Conflict as exc:
                            assert exc.code == "insufficient_funds"
                            sp.rollback()
                            continue
                        raise AssertionError("overdraft accepted")
                    tx = call()
                    m["available"] -= cents
                elif kind == "wage":
                    (tx,) = services.wage_run(
                        est,
                        SYSTEM,
                        workshop="W",
                        lines=[services.WageLine(det.registration_number, amount)],
                    )
                    to_savings = cents * share // 100
                    m["savings"] += to_savings
                    m["available"] += cents - to_savings
                elif kind == "hold":
                    target = min(cents, m["available"])
                    services.set_hold(
                        det, SYSTEM, amount=services.money(target) if target else "0", memo="h"
                    )
                    m["held"] = target
                    tx = None
                elif kind == "reverse":
                    if not done:
                        sp.rollback()
                        continue
                    original = done[index % len(done)]
                    try:
                        services.reverse(original, SYSTEM, memo="oops")
                    except Conflict:
                        sp.rollback()
                        continue
                    owner = original.account.detainee_id
                    for p in original.postings:
                        if p.ledger_account.kind.value in ("available", "savings"):
                            model[owner][p.ledger_account.kind.value] -= p.amount
                    done.remove(original)
                    tx = None
                else:  # bad input never moves money
                    try:
                        services.deposit(det, SYSTEM, amount=amount, source="cash")
                    except ValidationFailed as exc:
                        assert "amount" in exc.fields
                        sp.rollback()
                        continue
                    raise AssertionError("bad amount accepted")
                sp.commit()
                if tx is not None:
                    done.append(tx)
            except BaseException:
                if sp.is_active:
                    sp.rollback()
                raise
            assert services.check_ledger() == []
        for det in dets:
            b = services.balances_of(services.account_of(det))
            m = model[det.id]
            assert (b.available, b.savings, b.held) == (m["available"], m["savings"], m["held"])
            assert b.available >= 0 and b.savings >= 0
        session().rollback()
