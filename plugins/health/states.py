"""Every state machine of the health module, in one place: ``{from: {to, ...}}``.

Services change a status only through :func:`plugins.health.services.common.transition`, a
conditional ``UPDATE … WHERE status = :from`` whose row count is checked, so two clinicians
racing on one record change it once.
"""

from __future__ import annotations

from plugins.health.models import (
    AppointmentStatus as A,
)
from plugins.health.models import (
    ConsultationStatus as C,
)
from plugins.health.models import (
    PrescriptionStatus as P,
)
from plugins.health.models import (
    ReferralStatus as R,
)

APPOINTMENT = {
    A.booked: {A.checked_in, A.no_show, A.cancelled},
    A.checked_in: {A.done, A.cancelled},
    A.done: set(),
    A.no_show: set(),
    A.cancelled: set(),
}
PRESCRIPTION = {P.draft: {P.signed, P.stopped}, P.signed: {P.stopped}, P.stopped: set()}
CONSULTATION = {C.draft: {C.signed}, C.signed: set()}
REFERRAL = {
    R.requested: {R.transfer_requested, R.done, R.cancelled},
    R.transfer_requested: {R.done, R.cancelled},
    R.done: set(),
    R.cancelled: set(),
}
