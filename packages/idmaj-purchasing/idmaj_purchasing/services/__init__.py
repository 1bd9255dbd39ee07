"""Every rule of remote purchasing. Services check permissions, validate with localised
per-field messages, audit every change and never commit (the page or endpoint commits once).

The files, by responsibility (this module re-exports their public names):

- ``common`` — words for codes, money, the establishment's rules, the staff check.
- ``catalogue`` — products, prices, stock and availability.
- ``rules`` — forbidden categories (the hook ``purchasing_forbidden_categories``), weekly caps.
- ``payments`` — the payment-method interface and the ``agency`` and ``account`` methods.
- ``transitions`` — the order's state machine, the one place that lists its transitions.
- ``ordering`` — placing (whole or nothing), reading and cancelling orders.
- ``fulfilment`` — preparing, delivering, refusing, expiring, transfer and release.
- ``settlement`` — the payment agency's settlement file.
- ``notify`` — messages to the family.
- ``figures`` — dashboard and figures.
- ``privacy`` — a family's data download and account closing.
"""

from __future__ import annotations

from idmaj_purchasing.services.catalogue import (
    add_product,
    catalogue,
    get_product,
    product_json,
    shop_products,
    update_product,
)
from idmaj_purchasing.services.common import (
    CATEGORY_LABELS,
    REASON_LABELS,
    STATUS_LABELS,
    UNIT_LABELS,
    category_label,
    establishment_by_code,
    money,
    reason_label,
    rules_for,
    rules_to_read,
    shop_staff,
    status_label,
    unit_label,
)
from idmaj_purchasing.services.figures import Figures, figures
from idmaj_purchasing.services.fulfilment import (
    PROOFS,
    DailyList,
    daily_list,
    deliver,
    detainee_left,
    expire_unpaid,
    prepare,
    refuse,
)
from idmaj_purchasing.services.ordering import (
    can_order,
    cancel,
    caps_for,
    detainee_for,
    detainee_orders,
    family_orders,
    get_order,
    linked_detainees,
    order_json,
    place_order,
    shop_orders,
)
from idmaj_purchasing.services.payments import (
    BUILT_IN,
    AccountPayment,
    AgencyPayment,
    PaymentMethod,
    luhn_ok,
    method,
    methods,
    offered_methods,
)
from idmaj_purchasing.services.rules import (
    Week,
    add_restriction,
    forbidden_categories,
    remove_restriction,
    restrictions_of,
    update_rules,
    week_of,
)
from idmaj_purchasing.services.settlement import (
    get_settlement,
    import_settlement,
    outcome_label,
    settlements,
)
from idmaj_purchasing.services.transitions import CANCELLABLE, TRANSITIONS, UNDELIVERED

__all__ = [
    "BUILT_IN",
    "CANCELLABLE",
    "CATEGORY_LABELS",
    "PROOFS",
    "REASON_LABELS",
    "STATUS_LABELS",
    "TRANSITIONS",
    "UNDELIVERED",
    "UNIT_LABELS",
    "AccountPayment",
    "AgencyPayment",
    "DailyList",
    "Figures",
    "PaymentMethod",
    "Week",
    "add_product",
    "add_restriction",
    "can_order",
    "cancel",
    "caps_for",
    "catalogue",
    "category_label",
    "daily_list",
    "deliver",
    "detainee_for",
    "detainee_left",
    "detainee_orders",
    "establishment_by_code",
    "expire_unpaid",
    "family_orders",
    "figures",
    "forbidden_categories",
    "get_order",
    "get_product",
    "get_settlement",
    "import_settlement",
    "linked_detainees",
    "luhn_ok",
    "method",
    "methods",
    "money",
    "offered_methods",
    "order_json",
    "outcome_label",
    "place_order",
    "prepare",
    "product_json",
    "reason_label",
    "refuse",
    "remove_restriction",
    "restrictions_of",
    "rules_for",
    "rules_to_read",
    "settlements",
    "shop_orders",
    "shop_products",
    "shop_staff",
    "status_label",
    "unit_label",
    "update_product",
    "update_rules",
    "week_of",
]
