"""Demo data: a believable national picture, made by ``idmaj demo seed`` on an empty database.

Establishments of every kind across the regions, one user per role, detainees with Arabic and
Latin names (common names shared by many people, spelled as clerks write them), then every
plugin's ``demo_seed`` in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from sqlalchemy import func, select

from core.contributions import DemoContext
from core.db import session as db_session
from core.db import utcnow
from core.demo_population import fill_to_occupancy
from core.detainees import services as detainee_services
from core.detainees.models import Detainee
from core.establishments.models import Establishment
from core.establishments.services import create_establishment
from core.identity.models import User
from core.identity.services import create_user, sync_permissions
from core.plugins import hook
from core.principals import SYSTEM

DEMO_PASSWORD = "idmaj-demo-2026"

CITIES_AR = {
    "Aït Melloul": "آيت ملول",
    "Casablanca": "الدار البيضاء",
    "Fès": "فاس",
    "Kénitra": "القنيطرة",
    "Marrakech": "مراكش",
    "Meknès": "مكناس",
    "Oujda": "وجدة",
    "Salé": "سلا",
    "Tanger": "طنجة",
}

ESTABLISHMENTS = [
    # code, French name, Arabic name, kind, region, city, capacity
    (
        "CAS-AS",
        "Complexe pénitentiaire Ain Sebaâ",
        "المركب السجني عين السبع",
        "local_prison",
        "Casablanca-Settat",
        "Casablanca",
        4500,
    ),
    (
        "CAS-OK",
        "Prison locale Oukacha",
        "السجن المحلي عكاشة",
        "local_prison",
        "Casablanca-Settat",
        "Casablanca",
        6000,
    ),
    (
        "RBT-AR",
        "Prison locale Arjat 1",
        "السجن المحلي العرجات 1",
        "local_prison",
        "Rabat-Salé-Kénitra",
        "Salé",
        2500,
    ),
    (
        "TNG-LP",
        "Prison locale Tanger 2",
        "السجن المحلي طنجة 2",
        "local_prison",
        "Tanger-Tétouan-Al Hoceïma",
        "Tanger",
        3000,
    ),
    (
        "FES-RS",
        "Prison locale Ras El Ma",
        "السجن المحلي راس الماء",
        "local_prison",
        "Fès-Meknès",
        "Fès",
        2200,
    ),
    (
        "KEN-CP",
        "Prison centrale Kénitra",
        "السجن المركزي القنيطرة",
        "central_prison",
        "Rabat-Salé-Kénitra",
        "Kénitra",
        1800,
    ),
    (
        "MKN-CP",
        "Prison centrale Meknès",
        "السجن المركزي مكناس",
        "central_prison",
        "Fès-Meknès",
        "Meknès",
        1500,
    ),
    (
        "MRK-AG",
        "Prison agricole Marrakech",
        "السجن الفلاحي مراكش",
        "agricultural_prison",
        "Marrakech-Safi",
        "Marrakech",
        900,
    ),
    (
        "AGD-AG",
        "Prison agricole Aït Melloul",
        "السجن الفلاحي أيت ملول",
        "agricultural_prison",
        "Souss-Massa",
        "Aït Melloul",
        800,
    ),
    (
        "CAS-CR",
        "Centre de réforme et d'éducation Casablanca",
        "مركز الإصلاح والتهذيب الدار البيضاء",
        "reform_centre",
        "Casablanca-Settat",
        "Casablanca",
        600,
    ),
    (
        "SLE-CR",
        "Centre de réforme et d'éducation Salé",
        "مركز الإصلاح والتهذيب سلا",
        "reform_centre",
        "Rabat-Salé-Kénitra",
        "Salé",
        400,
    ),
    (
        "OUJ-LP",
        "Prison locale Oujda",
        "السجن المحلي وجدة",
        "local_prison",
        "Oriental",
        "Oujda",
        1700,
    ),
]

# first names: (Latin spellings as clerks write them, Arabic), sex
FIRST_NAMES = [
    (("Mohamed", "Mohammed", "Muhammad"), "محمد", "M"),
    (("Ahmed", "Ahmad"), "أحمد", "M"),
    (("Youssef", "Yousef", "Yusuf"), "يوسف", "M"),
    (("Hicham", "Hisham"), "هشام", "M"),
    (("Abdelkader", "Abd El Kader"), "عبد القادر", "M"),
    (("Said", "Saïd", "Saeed"), "سعيد", "M"),
    (("Omar", "Umar"), "عمر", "M"),
    (("Othmane", "Otmane"), "عثمان", "M"),
    (("Rachid", "Rachid"), "رشيد", "M"),
    (("Karim", "Kareem"), "كريم", "M"),
    (("Mustapha", "Mostafa"), "مصطفى", "M"),
    (("Abdellah", "Abdallah"), "عبد الله", "M"),
    (("Hamza", "Hamza"), "حمزة", "M"),
    (("Ayoub", "Ayyoub"), "أيوب", "M"),
    (("Khalid", "Khaled"), "خالد", "M"),
    (("Jamal", "Djamal"), "جمال", "M"),
    (("Fatima", "Fatimah", "Fatema"), "فاطمة", "F"),
    (("Khadija", "Khadidja"), "خديجة", "F"),
    (("Aicha", "Aïcha", "Aisha"), "عائشة", "F"),
    (("Naima", "Naïma"), "نعيمة", "F"),
    (("Zineb", "Zaynab"), "زينب", "F"),
    (("Meryem", "Maryam"), "مريم", "F"),
]

LAST_NAMES = [
    (("El Idrissi", "Idrissi", "Elidrissi"), "الإدريسي"),
    (("Benjelloun", "Ben Jelloun"), "بنجلون"),
    (("El Amrani", "Lamrani", "Amrani"), "العمراني"),
    (("Ouazzani", "Wazzani", "El Ouazzani"), "الوزاني"),
    (("Et-Tazi", "Tazi"), "التازي"),
    (("Alaoui", "El Alaoui"), "العلوي"),
    (("Bennani", "Ben Nani"), "بناني"),
    (("El Fassi", "Fassi"), "الفاسي"),
    (("Berrada", "Berrada"), "برادة"),
    (("Chraibi", "Cheraibi"), "الشرايبي"),
    (("Ait Ali", "Aït Ali"), "أيت علي"),
    (("Boukhari", "El Boukhari"), "البخاري"),
    (("Belhaj", "Belhadj"), "بلحاج"),
    (("Naciri", "Nasiri"), "الناصري"),
    (("Kettani", "El Kettani"), "الكتاني"),
    (("Sqalli", "Skalli"), "السقلي"),
    (("Hajji", "El Hajji"), "الحجي"),
    (("Ziani", "Zyani"), "الزياني"),
    (("Rifi", "Errifi"), "الريفي"),
    (("Mansouri", "El Mansouri"), "المنصوري"),
]

ROLE_USERS = [
    # username, role, full name, establishments
    ("admin", "central_admin", "Nadia Central", []),
    ("auditor", "auditor", "Hassan Inspecteur", []),
    ("director", "director", "Driss Directeur", ["CAS-AS"]),
    ("clerk", "registry_clerk", "Samira Greffe", ["CAS-AS"]),
    ("clerk.oukacha", "registry_clerk", "Amine Greffe", ["CAS-OK"]),
    ("visits", "visits_officer", "Latifa Visites", ["CAS-AS"]),
    ("doctor", "doctor", "Dr. Youssef Médecin", ["CAS-AS"]),
    ("nurse", "nurse", "Salma Infirmière", ["CAS-AS"]),
    ("accountant", "accountant", "Rachid Économe", ["CAS-AS"]),
    ("transfers", "transfers_officer", "Karim Transferts", ["CAS-AS"]),
    ("complaints", "complaints_officer", "Houda Réclamations", ["CAS-AS"]),
]


CIN_PREFIXES = ["A", "B", "BE", "BK", "C", "D", "EE", "G", "J", "K"]


@dataclass
class DemoResult:
    establishments: int
    users: int
    detainees: int
    logins: list[tuple[str, str, str]]


def random_person(rng: random.Random) -> dict[str, object]:
    latin_first, arabic_first, sex = rng.choice(FIRST_NAMES)
    latin_last, arabic_last = rng.choice(LAST_NAMES)
    today = utcnow().date()
    age_days = rng.randint(18 * 365, 70 * 365)
    return {
        "first_name": rng.choice(latin_first),
        "last_name": rng.choice(latin_last),
        "first_name_ar": arabic_first,
        "last_name_ar": arabic_last,
        "sex": sex,
        "birth_date": (today - dt.timedelta(days=age_days)).isoformat(),
        "national_id": f"{rng.choice(CIN_PREFIXES)}{rng.randint(10000, 999999)}",
        "legal_status": rng.choice(["pretrial", "convicted", "convicted"]),
    }


def _person_at(rng: random.Random, establishment: Establishment) -> dict[str, object]:
    """A person as :func:`random_person`, aged 15 to 18 in a reform centre (minors' centres)."""
    person = random_person(rng)
    if establishment.kind.value == "reform_centre":
        days = rng.randint(15 * 365, 19 * 365 - 30)
        person["birth_date"] = (utcnow().date() - dt.timedelta(days=days)).isoformat()
    return person


def demo_logins() -> list[tuple[str, str, str]]:
    """The demo logins that still open with the demo password (``make run`` prints them on every
    start, not only after the first seed). A demo account whose password was changed, or that
    was deactivated, is left out: its password is no longer a secret anyone can print."""
    from core.identity.passwords import verify_password

    found: list[tuple[str, str, str]] = []
    users = db_session().scalars(
        select(User).where(User.is_active.is_(True)).order_by(User.id).limit(200)
    )
    for user in users:
        if not verify_password(user.password_hash, DEMO_PASSWORD):
            continue
        roles = ", ".join(sorted(user.roles))
        codes = ", ".join(e.code for e in user.establishments)
        found.append((user.username, DEMO_PASSWORD, roles + (f" @ {codes}" if codes else "")))
    return found


def database_is_empty() -> bool:
    sess = db_session()
    return not (
        sess.scalar(select(func.count()).select_from(Establishment))
        or sess.scalar(select(func.count()).select_from(User))
    )


def seed(detainees: int = 400, seed_value: int = 2025, population: bool = False) -> DemoResult:
    """Fill an empty database; runs in the caller's transaction (the caller commits).

    ``detainees`` are admitted through the services (audited, with every module's hooks) and
    carry the demo's stories; ``population`` (what ``idmaj demo seed`` does unless told
    ``--no-population``) then fills every establishment to a real-looking occupancy by bulk
    inserts (:mod:`core.demo_population`)."""
    sess = db_session()
    rng = random.Random(seed_value)
    sync_permissions(sess)
    ests = [
        create_establishment(
            code=code,
            name=fr,
            name_ar=ar,
            kind=kind,
            region=region,
            city=city,
            city_ar=CITIES_AR.get(city, ""),
            capacity=cap,
            actor=SYSTEM,
        )
        for code, fr, ar, kind, region, city, cap in ESTABLISHMENTS
    ]
    users: dict[str, User] = {}
    logins: list[tuple[str, str, str]] = []
    for username, role, full_name, est_codes in ROLE_USERS:
        users[username] = create_user(
            username=username,
            password=DEMO_PASSWORD,
            full_name=full_name,
            roles=[role],
            establishments=est_codes,
            actor=SYSTEM,
        )
        logins.append(
            (username, DEMO_PASSWORD, role + (f" @ {', '.join(est_codes)}" if est_codes else ""))
        )
    family = create_user(
        username="family",
        password=DEMO_PASSWORD,
        full_name="Fatima Zahra Benali",
        roles=["visitor"],
        national_id="BE123456",
        phone="0612345678",
        actor=SYSTEM,
    )
    users["family"] = family
    logins.append(("family", DEMO_PASSWORD, "visitor (family member)"))

    # weight the large establishments; Ain Sebaâ always gets a good share for the demo users
    weights = [e.capacity for e in ests]
    made: list[Detainee] = []
    now = utcnow()
    for i in range(detainees):
        est = ests[0] if i % 4 == 0 else rng.choices(ests, weights=weights)[0]
        person = _person_at(rng, est)
        person["establishment"] = est.code
        admitted = now - dt.timedelta(days=rng.randint(1, 3 * 365), minutes=rng.randint(0, 1440))
        made.append(detainee_services.admit(person, SYSTEM, admitted_at=admitted))
    sess.flush()
    context = DemoContext(
        session=sess, rng=rng, establishments=ests, detainees=made, users=users, logins=logins
    )
    hook().demo_seed(context=context)
    sess.flush()
    added = fill_to_occupancy(ests, rng, _person_at) if population else 0
    return DemoResult(len(ests), len(users), len(made) + added, logins)
