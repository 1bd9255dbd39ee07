"""What the hot paths need beyond bench/run.py's 100,000 detainees: one establishment's visit
rules opened wide, slots for eleven weeks, families (one visitor per detainee, approved link,
bearer token), an accountant with a token, and the signed-in cookies of a staff member and of a
family member."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update

from bench.run import PASSWORD
from core.principals import SYSTEM

ESTABLISHMENT = "CAS-AS"
SLOTS_PER_DAY = (8, 14)  # hours (UTC) of the day's slots
DAYS = 77  # eleven weeks of slots, all within the 90-day booking window set below
SLOT_CAPACITY = 5000
WEEKLY_QUOTA = 100_000  # visits per detainee and week (see seed_hot_paths)


#: the gap between two tables' identifiers in the benchmark's database (see spread_ids)
ID_SPACE = 10_000_000


def spread_ids(app: Any) -> None:
    """Start every table's identifiers in a range of its own (the k-th sequence at k × 10^7),
    before anything is seeded.

    The twins map the values of a captured request to their own by value (the captured slot id
    becomes the requested one, a captured detainee id the one their own statement returned).
    With every table counting from 1, the first slot (id 1, captured) had the id of the
    establishment (id 1) the booking is made at: the twins wrote their bookings, audit and
    outbox rows at the establishment whose id was the slot's, and failed with a foreign-key
    error once slot ids passed the last establishment's. With one range per table no value
    stands for two things. Rows already there (what the migrations insert) keep their ids."""
    from sqlalchemy import text

    engine = app.extensions["idmaj.db"].engine
    with engine.begin() as conn:
        names = conn.scalars(
            text(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = current_schema() ORDER BY sequencename"
            )
        ).all()
        for k, name in enumerate(names, start=1):
            conn.execute(text("SELECT setval(:s, :v, false)"), {"s": name, "v": k * ID_SPACE})


def analyze(app: Any) -> None:
    """``VACUUM ANALYZE`` once everything is seeded. bench/run.py analyzes after the
    detainees, but the hot paths' own rows (slots, families, links, tokens) come after: without
    statistics PostgreSQL planned the visits panel and the booking's checks for empty tables.
    Autovacuum would not have caught up: the sessions' PostgreSQL runs with it off; what grows
    during the runs is analyzed between them (:func:`autovacuum_step`)."""
    from sqlalchemy import text

    engine = app.extensions["idmaj.db"].engine
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


# autovacuum's default thresholds (PostgreSQL 13 and later): a table is vacuumed when its dead
# rows pass 50 + 20 % of its rows, or its inserts since the last vacuum 1,000 + 20 %; analyzed
# when its changes since the last analyze pass 50 + 10 %
_DUE = """
SELECT s.relname,
       s.n_dead_tup > 50 + 0.2 * greatest(c.reltuples, 0)
         OR s.n_ins_since_vacuum > 1000 + 0.2 * greatest(c.reltuples, 0) AS vacuum,
       s.n_mod_since_analyze > 50 + 0.1 * greatest(c.reltuples, 0) AS analyze
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema()
ORDER BY s.relname
"""


def autovacuum_step(conn: Any) -> list[str]:
    """Do now what autovacuum would have done by now: ``VACUUM ANALYZE`` or ``ANALYZE`` each
    table of the current schema past autovacuum's default thresholds. ``conn``: a psycopg
    connection in autocommit. Returns what was done, ``"table: vacuum analyze"``.

    The PostgreSQL that CI and the sessions use runs with ``autovacuum = off`` (its
    conf.d/90-ci.conf), so the tables that grow during a run — bookings, postings, audit,
    outbox — kept the statistics of the empty tables they were when seeded, and PostgreSQL
    planned for empty tables while they grew: the profile's visits read went from 0.02 to 10 ms
    over three rounds (a whole-index scan of the live-booking index), whoever sent it. A
    production server runs autovacuum; the benchmark does its work between runs, outside the
    measured seconds, with the same thresholds."""
    done = []
    for table, vacuum, analyze in conn.execute(_DUE).fetchall():
        if vacuum or analyze:
            action = "VACUUM ANALYZE" if vacuum else "ANALYZE"
            conn.execute(f'{action} "{table}"')
            done.append(f"{table}: {action.lower()}")
    return done


@dataclass
class HotData:
    booking_rns: list[str] = field(default_factory=list)
    booking_tokens: list[str] = field(default_factory=list)
    slot_ids: list[int] = field(default_factory=list)
    deposit_rns: list[str] = field(default_factory=list)
    accountant_token: str = ""
    admin_token: str = ""
    profile_rns: list[str] = field(default_factory=list)
    family_rn: str = ""
    staff_cookie: str = ""
    family_cookie: str = ""


def seed_hot_paths(app: Any, families: int, deposit_accounts: int) -> HotData:
    from core.db import session, utcnow
    from core.detainees.models import Detainee
    from core.errors import ValidationFailed
    from core.establishments.models import Establishment
    from core.identity.models import ApiToken, User, UserRole
    from core.identity.services import _token_digest, create_user
    from plugins.visits import services as visits
    from plugins.visits.models import Relation, Slot, VisitRules

    out = HotData()
    now = utcnow()
    with app.app_context():
        sess = session()
        est = sess.scalar(select(Establishment).where(Establishment.code == ESTABLISHMENT))
        visits.update_rules(
            SYSTEM,
            est,
            {"quota_pretrial": 14, "quota_convicted": 14, "window_open_days": 90},
        )
        first_day = (now + dt.timedelta(days=2)).date()
        for d in range(DAYS):
            day = first_day + dt.timedelta(days=d)
            for hour in SLOTS_PER_DAY:
                start = dt.datetime(day.year, day.month, day.day, hour, tzinfo=dt.UTC)
                try:  # the service caps capacity at 1,000: raised below
                    slot = visits.create_slot(
                        SYSTEM, est, start, start + dt.timedelta(hours=2), 1000
                    )
                except ValidationFailed:  # a day without visits (a public holiday)
                    continue
                sess.flush()
                out.slot_ids.append(slot.id)
        sess.execute(update(Slot).where(Slot.id.in_(out.slot_ids)).values(capacity=SLOT_CAPACITY))
        # the service caps a detainee's weekly visits at 14: raised, so that no week runs out
        # during a run. The twins replay the captured booking, whose quota row is the capture's
        # week for every booking: at 14, from a family's fifteenth replay on, their upsert
        # changed nothing while Idmaj's still counted. Idmaj's work per booking is the same
        # (the same upsert, its ``used < quota`` test true).
        sess.execute(
            update(VisitRules)
            .where(VisitRules.establishment_id == est.id)
            .values(quota_pretrial=WEEKLY_QUOTA, quota_convicted=WEEKLY_QUOTA)
        )
        sess.commit()

        people = list(
            sess.execute(
                select(Detainee.id, Detainee.registration_number)
                .where(Detainee.establishment_id == est.id)
                .order_by(Detainee.id)
                .limit(families + deposit_accounts + 2)
            )
        )
        if len(people) < deposit_accounts + 52:
            raise SystemExit(
                f"{ESTABLISHMENT} holds only {len(people)} detainees; seed more (--detainees)"
            )
        families = min(families, len(people) - deposit_accounts - 2)
        booking = people[:families]
        out.deposit_rns = [rn for _i, rn in people[families : families + deposit_accounts]]
        family_det = people[-1]
        out.family_rn = family_det[1]
        # profiles of detainees held elsewhere: no family of the benchmark books for them and no
        # deposit reaches them, so each profile stays the page that was captured (a profile
        # among the booking families grew with every booking of the earlier paths, rendered
        # by Idmaj round after round while the twins sent the captured bytes)
        elsewhere = list(
            sess.scalars(
                select(Detainee.registration_number)
                .where(Detainee.establishment_id != est.id)
                .order_by(Detainee.id)
                .limit(2000)
            )
        ) or [rn for _i, rn in people]
        out.profile_rns = elsewhere[:: max(1, len(elsewhere) // 20)][:20]

        sess.execute(
            insert(User),
            [
                {
                    "username": f"bench-family-{i}",
                    "password_hash": "!",
                    "full_name": f"Famille Bench {i}",
                    "national_id": f"BF{i:06d}",
                    "phone": "+212600000000",
                    "is_active": True,
                    "session_version": 1,
                    "created_at": now,
                }
                for i in range(families)
            ],
        )
        users = dict(
            sess.execute(
                select(User.username, User.id).where(User.username.like("bench-family-%"))
            ).all()
        )
        ids = [users[f"bench-family-{i}"] for i in range(families)]
        sess.execute(insert(UserRole), [{"user_id": u, "role_code": "visitor"} for u in ids])
        sess.execute(
            insert(Relation),
            [
                {
                    "visitor_id": u,
                    "detainee_id": det_id,
                    "relationship_kind": "parent",
                    "status": "approved",
                    "reason": "",
                    "created_at": now,
                }
                for u, (det_id, _rn) in zip(ids, booking, strict=True)
            ],
        )
        tokens = [secrets.token_urlsafe(32) for _ in ids]
        expires = now + dt.timedelta(days=3)
        sess.execute(
            insert(ApiToken),
            [
                {
                    "user_id": u,
                    "token_hash": _token_digest(t),
                    "created_at": now,
                    "expires_at": expires,
                }
                for u, t in zip(ids, tokens, strict=True)
            ],
        )
        out.booking_rns = [rn for _i, rn in booking]
        out.booking_tokens = tokens

        accountant = create_user(
            username="bench.accountant",
            password=PASSWORD,
            full_name="Bench Accountant",
            roles=["accountant"],
            establishments=[ESTABLISHMENT],
            actor=SYSTEM,
        )
        family = create_user(
            username="bench.family",
            password=PASSWORD,
            full_name="Famille Bench",
            roles=["visitor"],
            actor=SYSTEM,
            national_id="BF999999",
            phone="+212600000001",
        )
        sess.flush()
        sess.execute(
            insert(Relation),
            [
                {
                    "visitor_id": family.id,
                    "detainee_id": family_det[0],
                    "relationship_kind": "spouse",
                    "status": "approved",
                    "reason": "",
                    "created_at": now,
                }
            ],
        )
        admin = sess.scalar(select(User).where(User.username == "bench.admin"))
        out.accountant_token = secrets.token_urlsafe(32)
        out.admin_token = secrets.token_urlsafe(32)
        sess.execute(
            insert(ApiToken),
            [
                {
                    "user_id": u.id,
                    "token_hash": _token_digest(t),
                    "created_at": now,
                    "expires_at": expires,
                }
                for u, t in ((accountant, out.accountant_token), (admin, out.admin_token))
            ],
        )
        sess.commit()
    return out


def sign_in(app: Any, username: str, first_page: str = "/") -> str:
    """The session cookie of ``username`` as their browser holds it once signed in: the login
    form (CSRF off in this app only), then one page (``first_page``), whose forms put the CSRF
    token in the session. A cookie without it would be written again (and a new token signed)
    on every request measured, as no browser's is: a browser keeps the cookie it was sent."""
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    if resp.status_code != 302:
        raise SystemExit(f"cannot sign {username} in: HTTP {resp.status_code}")
    resp = client.get(first_page, follow_redirects=True)
    if resp.status_code != 200:
        raise SystemExit(f"{username}'s first page {first_page}: HTTP {resp.status_code}")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    if cookie is None:
        raise SystemExit(f"no session cookie for {username}")
    return f"{cookie.key}={cookie.value}"
