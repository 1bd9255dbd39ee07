"""Rules of the ledger: amounts, wages, limits, reversals, holds, life events, reconciliation."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from core.db import session
from core.detainees.services import get_detainee, move, release
from core.errors import Blocked, Conflict, ValidationFailed
from core.establishments.services import get_by_code
from core.principals import SYSTEM
from plugins.funds import services
from plugins.funds.models import AccountStatus, LedgerKind, Posting, Transaction, TxType
from plugins.funds.tests.helpers import setup


@pytest.mark.parametrize(
    ("text_", "centimes"),
    [("1", 100), ("1.5", 150), ("125.50", 12550), (" 7.07 ", 707), ("999999999.99", 99999999999)],
)
def test_parse_amount_exact(text_, centimes):
    assert services.parse_amount(text_) == centimes


@pytest.mark.parametrize(
    "bad", [None, 1, 1.5, True, "", "0", "-1", "1.001", "1e3", "NaN", "inf", "1000000000", "1,5"]
)
def test_parse_amount_refuses(app, bad):
    with app.test_request_context(), pytest.raises(services.AmountError):
        services.parse_amount(bad)


def test_comma_accepted_only_on_forms():
    assert services.parse_amount("1 234,50", allow_comma=True) == 123450


def test_account_opened_on_admission(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A")
        account = services.account_of(det)
        assert account is not None and account.currency == "MAD"
        kinds = set(services.detainee_ledgers(account))
        assert kinds == {LedgerKind.available, LedgerKind.savings}


def test_transactions_are_balanced_double_entry(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        tx = services.deposit(det, SYSTEM, amount="80.00", source="cash")
        kinds = {p.ledger_account.kind: p.amount for p in tx.postings}
        assert kinds == {LedgerKind.available: 8000, LedgerKind.cash: -8000}
        purchase = services.purchase(det, SYSTEM, amount="30.00", memo="bread")
        assert {p.ledger_account.kind: p.amount for p in purchase.postings} == {
            LedgerKind.available: -3000,
            LedgerKind.canteen: 3000,
        }
        est = get_by_code("EST-A")
        assert services.cash_on_ledger(est) == 8000
        assert services.check_ledger() == []


def test_wage_run_splits_and_is_all_or_nothing(app, factories):
    with app.app_context():
        a = factories.detainee("EST-A").registration_number
        b = factories.detainee("EST-A").registration_number
        elsewhere = factories.detainee("EST-B").registration_number
        est = get_by_code("EST-A")
        services.settings_for(est.id).savings_share_pct = 25
        with pytest.raises(ValidationFailed) as exc:
            services.wage_run(
                est,
                SYSTEM,
                workshop="Menuiserie",
                lines=[
                    services.WageLine(a, "100.00"),
                    services.WageLine(elsewhere, "100.00"),
                    services.WageLine(b, "1.001"),
                ],
            )
        assert set(exc.value.fields) == {"lines.2", "lines.3"}
        assert (
            session().scalar(select(Transaction.id).where(Transaction.type == TxType.wage)) is None
        )
        txs = services.wage_run(
            est,
            SYSTEM,
            workshop="Menuiserie",
            lines=[services.WageLine(a, "100.01"), services.WageLine(b, "40.00")],
        )
        assert len(txs) == 2 and txs[0].batch == txs[1].batch
        ba = services.balances_of(services.account_of(get_detainee(a, SYSTEM)))
        assert (ba.available, ba.savings) == (7501, 2500)
        assert services.check_ledger() == []


def test_wage_run_refuses_duplicates_and_empty(app, factories):
    with app.app_context():
        a = factories.detainee("EST-A").registration_number
        est = get_by_code("EST-A")
        with pytest.raises(ValidationFailed) as exc:
            services.wage_run(
                est,
                SYSTEM,
                workshop="X",
                lines=[services.WageLine(a, "1"), services.WageLine(a, "1")],
            )
        assert "lines.2" in exc.value.fields
        with pytest.raises(ValidationFailed):
            services.wage_run(est, SYSTEM, workshop="X", lines=[])
        with pytest.raises(ValidationFailed):
            services.wage_run(est, SYSTEM, workshop=" ", lines=[services.WageLine(a, "1")])


def test_weekly_spending_limit(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount="500.00", source="cash")
        # off by default
        services.purchase(det, SYSTEM, amount="200.00")
        services.settings_for(det.establishment_id).weekly_limit = 25000
        services.purchase(det, SYSTEM, amount="40.00")
        with pytest.raises(Conflict) as exc:
            services.withdraw(det, SYSTEM, amount="10.01", reason="x")
        assert exc.value.code == "weekly_limit_exceeded"
        services.withdraw(det, SYSTEM, amount="10.00", reason="x")
        # fees are not spending
        services.charge_fee(det, SYSTEM, amount="5.00", memo="broken plate")
        # a reversed purchase no longer counts
        bought = (
            session()
            .scalars(select(Transaction).where(Transaction.type == TxType.canteen_purchase))
            .first()
        )
        services.reverse(bought, SYSTEM, memo="wrong account")
        services.purchase(det, SYSTEM, amount="150.00")
        assert services.check_ledger() == []


def test_reversal_points_at_original_and_only_once(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        dep = services.deposit(det, SYSTEM, amount="60.00", source="cash")
        rev = services.reverse(dep, SYSTEM, memo="typed twice")
        assert rev.type == TxType.reversal and rev.reverses_id == dep.id
        assert services.balances_of(services.account_of(det)).available == 0
        with pytest.raises(Conflict) as exc:
            services.reverse(dep, SYSTEM, memo="again")
        assert exc.value.code == "already_reversed"
        with pytest.raises(Conflict):
            services.reverse(rev, SYSTEM, memo="reverse the reversal")
        # a deposit already spent cannot be reversed into a negative balance
        dep2 = services.deposit(det, SYSTEM, amount="10.00", source="cash")
        services.purchase(det, SYSTEM, amount="5.00")
        with pytest.raises(Conflict) as exc:
            services.reverse(dep2, SYSTEM, memo="x")
        assert exc.value.code == "insufficient_funds"
        # the original is untouched
        session().refresh(dep)
        assert dep.amount == 6000 and len(dep.postings) == 2
        assert services.check_ledger() == []


def test_hold_blocks_spending_and_release(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount="100.00", source="cash")
        services.set_hold(det, SYSTEM, amount="70.00", memo="court fine pending")
        with pytest.raises(Conflict):
            services.withdraw(det, SYSTEM, amount="30.01", reason="x")
        services.withdraw(det, SYSTEM, amount="30.00", reason="x")
        with pytest.raises(Conflict):
            services.set_hold(det, SYSTEM, amount="70.01", memo="more")
        (blocker,) = services.release_blockers(det)
        assert (blocker.code, blocker.module, blocker.overridable) == (
            "money_on_hold",
            "funds",
            False,
        )
        assert "70.00" in str(blocker.message)
        with pytest.raises(Blocked) as exc:
            release(det, SYSTEM, override=True)  # not overridable, even by the system
        assert exc.value.code == "blocked"
        assert exc.value.fields["blockers"][0]["code"] == "money_on_hold"
        services.set_hold(det, SYSTEM, amount="0", memo="fine paid")
        assert services.release_blockers(det) == []


def test_release_pays_out_everything_and_closes(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A")
        est = get_by_code("EST-A")
        services.deposit(det, SYSTEM, amount="90.00", source="cash")
        services.wage_run(
            est, SYSTEM, workshop="W", lines=[services.WageLine(det.registration_number, "50.00")]
        )
        release(det, SYSTEM)
        account = services.account_of(det)
        assert account.status == AccountStatus.closed and account.closed_at is not None
        b = services.balances_of(account)
        assert (b.available, b.savings) == (0, 0)
        payout = session().scalar(
            select(Transaction).where(
                Transaction.account_id == account.id, Transaction.type == TxType.release_payout
            )
        )
        assert payout.amount == 14000
        with pytest.raises(Conflict) as exc:
            services.deposit(det, SYSTEM, amount="1.00", source="cash")
        assert exc.value.code == "account_closed"
        assert services.check_ledger() == []


def test_transfer_moves_the_account_with_lines_at_both_establishments(app, factories):
    with app.app_context():
        det = factories.detainee("EST-A")
        dest = factories.establishment("EST-B")
        est_a = get_by_code("EST-A")
        services.deposit(det, SYSTEM, amount="120.00", source="cash")
        services.wage_run(
            est_a, SYSTEM, workshop="W", lines=[services.WageLine(det.registration_number, "10.00")]
        )
        move(det, dest, SYSTEM)
        account = services.account_of(det)
        assert account.establishment_id == dest.id
        b = services.balances_of(account)
        assert (b.available, b.savings) == (12900, 100)
        txs = (
            session()
            .scalars(
                select(Transaction)
                .where(Transaction.account_id == account.id)
                .order_by(Transaction.id)
            )
            .all()
        )
        assert [t.type for t in txs][-2:] == [TxType.transfer_out, TxType.transfer_in]
        assert txs[-2].establishment_id == est_a.id and txs[-1].establishment_id == dest.id
        # the destination's accountant can now spend it; the source's no longer sees it
        services.withdraw(det, SYSTEM, amount="129.00", reason="x")
        assert services.check_ledger() == []


def test_cash_reconciliation_records_the_difference(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        est = get_by_code("EST-A")
        services.deposit(det, SYSTEM, amount="100.00", source="cash")
        count = services.reconcile_cash(est, SYSTEM, counted="98.50", note="short")
        assert (count.expected, count.counted, count.difference) == (10000, 9850, -150)
        assert services.cash_on_ledger(est) == 9850
        again = services.reconcile_cash(est, SYSTEM, counted="98.50", note="")
        assert again.difference == 0 and again.transaction_id is None
        with pytest.raises(ValidationFailed) as exc:
            services.reconcile_cash(est, SYSTEM, counted="-1", note="")
        assert "counted" in exc.value.fields
        assert services.check_ledger() == []


def test_reconcile_command_passes_then_fails_on_altered_posting(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount="100.00", source="cash")
        session().commit()
    runner = CliRunner()
    from plugins.funds.cli import funds

    ok = runner.invoke(funds, ["reconcile"], obj=_script_info(app))
    assert ok.exit_code == 0, ok.output
    with app.app_context():
        posting_id = session().scalar(select(Posting.id).order_by(Posting.id.desc()))
        if session().get_bind().dialect.name == "postgresql":
            session().execute(text("ALTER TABLE funds_postings DISABLE TRIGGER USER"))
        session().execute(
            text("UPDATE funds_postings SET amount = amount + 1 WHERE id = :id"), {"id": posting_id}
        )
        session().commit()
    bad = runner.invoke(funds, ["reconcile"], obj=_script_info(app))
    assert bad.exit_code == 1
    assert "INCONSISTENT" in bad.output


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


@pytest.mark.postgresql  # SQLite: the reconcile check is the guard (test above)
def test_postings_are_append_only_on_postgresql(app, factories):
    rn, _acc = setup(app, factories)
    with app.app_context():
        assert session().get_bind().dialect.name == "postgresql"
        det = get_detainee(rn, SYSTEM)
        services.deposit(det, SYSTEM, amount="1.00", source="cash")
        session().commit()
        with pytest.raises(Exception, match="append-only"), session().begin_nested():
            session().execute(text("DELETE FROM funds_postings"))


def test_demo_seed_books_are_consistent(app):
    from core import demo
    from plugins.funds.models import Account

    with app.app_context():
        demo.seed(detainees=30, seed_value=7)
        session().flush()
        assert services.check_ledger() == []
        types = set(session().scalars(select(Transaction.type)))
        assert {TxType.family_deposit, TxType.wage, TxType.canteen_purchase} <= types
        assert session().scalar(select(Account.id)) is not None
