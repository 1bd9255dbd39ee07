"""How the audit page names remote purchasing's events, in the reader's language."""

from __future__ import annotations

from flask_babel import lazy_pgettext

from core.contributions import AuditLabels
from core.i18n import lazy_gettext as _l
from idmaj_purchasing.services.common import CATEGORY_LABELS, STATUS_LABELS
from idmaj_purchasing.services.settlement import OUTCOME_LABELS

PURCHASING_AUDIT_LABELS = AuditLabels(
    actions={
        "purchasing.product.add": _l("Shop product added"),
        "purchasing.product.update": _l("Shop product changed"),
        "purchasing.rules.update": _l("Shop rules changed"),
        "purchasing.restriction.add": _l("Shop category forbidden to a detainee"),
        "purchasing.restriction.remove": _l("Shop category allowed again"),
        "purchasing.order.place": _l("Shop order placed"),
        "purchasing.order.pay": _l("Shop order paid"),
        "purchasing.order.prepare": _l("Shop order prepared"),
        "purchasing.order.deliver": _l("Shop order delivered"),
        "purchasing.order.refuse": _l("Shop order refused at delivery"),
        "purchasing.order.cancel": _l("Shop order cancelled"),
        "purchasing.order.expire": _l("Shop order expired"),
        "purchasing.settlement.import": _l("Agency settlement file imported"),
        "purchasing.family.close": _l("Family account closed: shop orders"),
        "purchasing.": _l("Remote purchasing"),
    },
    object_types={
        "purchasing_product": _l("Shop product"),
        "purchasing_order": _l("Shop order"),
        "purchasing_rules": _l("Shop rules"),
        "purchasing_settlement": _l("Agency settlement file"),
    },
    fields={
        "total": _l("Total"),
        "payment": _l("Payment"),
        "lines": _l("Products"),
        "receipt": _l("Receipt"),
        "refund": _l("Refund"),
        "proof": _l("Proof of delivery"),
        "weekly_cap": _l("Weekly limit"),
        "payment_hours": _l("Hours to pay"),
        "forbidden_categories": _l("Forbidden categories"),
        "stock": _l("Stock"),
        "price_centimes": _l("Price"),
        "price": _l("Price"),
        "file": lazy_pgettext("uploaded file", "File"),
        # a settlement import counts its lines by outcome
        **{str(code): label for code, label in OUTCOME_LABELS.items()},
        "category": _l("Category"),
    },
    values={
        "status": {str(k): v for k, v in STATUS_LABELS.items()},
        "category": dict(CATEGORY_LABELS),
    },
)
