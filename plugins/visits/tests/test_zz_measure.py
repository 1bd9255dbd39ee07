from sqlalchemy import event as sa_event
from core.testing import TEST_PASSWORD
from plugins.visits.tests.conftest import make_slot

def _capture(app, fn):
    engine = app.extensions["idmaj.db"].engine
    seen = []
    def listen(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split())[:3000])
    sa_event.listen(engine, "before_cursor_execute", listen)
    try:
        resp = fn()
    finally:
        sa_event.remove(engine, "before_cursor_execute", listen)
    return resp, seen

def test_measure(app, client, world, factories, api_headers):
    family = api_headers(world.visitor)
    body = {"slot_id": world.slot_id, "detainee": world.rn}
    resp, seen = _capture(app, lambda: client.post("/api/v1/visits/bookings", json=body, headers=family))
    assert resp.status_code == 201, resp.json
    print("\nBOOKING", len(seen)); [print("  ", s) for s in seen]
    with app.app_context():
        clerk = factories.user("registry_clerk", ("EST-A",))
    c2 = app.test_client()
    c2.post("/login", data={"username": clerk.username, "password": TEST_PASSWORD})
    c2.get(f"/detainees/{world.rn}")
    resp, seen = _capture(app, lambda: c2.get(f"/detainees/{world.rn}"))
    assert resp.status_code == 200
    print("\nPROFILE", len(seen)); [print("  ", s) for s in seen]
