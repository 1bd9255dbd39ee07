"""The ``visits.family_links`` service port (``plugins/visits/ports.py``): other modules (remote
purchasing) ask whether a family member is linked to a detainee without importing visits."""

from __future__ import annotations

from core.db import session
from core.detainees.models import Detainee
from core.identity.models import User
from core.ports import has_port, port
from core.ports.visits import FAMILY_LINKS, FamilyLinks
from plugins.visits.tests.conftest import link


def test_visits_provides_the_family_links_port(app):
    with app.app_context():
        assert has_port(FAMILY_LINKS, FamilyLinks)
    assert app.extensions["idmaj.ports"].get(FAMILY_LINKS).provider == "visits"


def test_only_an_approved_relation_is_a_link(app, factories):
    with app.app_context():
        det = factories.detainee()
        other = factories.detainee(first_name="Ahmed", national_id="ZZ99999")
        approved, pending, rejected = factories.visitor(), factories.visitor(), factories.visitor()
        link(approved.id, det.id)
        link(pending.id, det.id, status="pending")
        link(rejected.id, det.id, status="rejected")
        session().commit()
        links = port(FAMILY_LINKS, FamilyLinks)
        det = session().get(Detainee, det.id)
        other = session().get(Detainee, other.id)

        def user(u):
            return session().get(User, u.id)

        assert links.is_linked(user(approved), det)
        assert not links.is_linked(user(approved), other)
        assert not links.is_linked(user(pending), det)
        assert not links.is_linked(user(rejected), det)
        assert [d.id for d in links.linked_detainees(user(approved))] == [det.id]
        assert links.linked_detainees(user(pending)) == []
        assert not links.is_linked(None, det)
