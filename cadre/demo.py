"""The demo cadre: forces, people, accreditation and logins, the same on every run.

Dates are relative to today, so a demo seeded today shows a few accreditations
lapsing within 60 days and one lapsed, whenever it is run.
"""

from datetime import date, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from cadre import access, services
from cadre.models import Accreditation, Force, Negotiator

DEMO_PASSWORD = "standby-demo"

HOME = ("Wessex Constabulary", "WSX")
NEIGHBOURS = [("Avonmoor Police", "AVM", "KESTREL"), ("Downshire Constabulary", "DSH", "HERON")]

NATO = [
    "ALPHA",
    "BRAVO",
    "CHARLIE",
    "DELTA",
    "ECHO",
    "FOXTROT",
    "GOLF",
    "HOTEL",
    "INDIA",
    "JULIET",
    "KILO",
    "LIMA",
    "MIKE",
    "NOVEMBER",
    "OSCAR",
    "PAPA",
    "QUEBEC",
    "ROMEO",
    "SIERRA",
    "TANGO",
    "UNIFORM",
    "VICTOR",
    "WHISKEY",
    "XRAY",
    "YANKEE",
    "ZULU",
    "ALPHA",
]
FIRST = [
    "Amira",
    "Ben",
    "Catherine",
    "Dev",
    "Eleanor",
    "Farid",
    "Grace",
    "Harvey",
    "Imogen",
    "Jonah",
    "Kavita",
    "Liam",
    "Maya",
    "Niall",
    "Olivia",
    "Priya",
    "Quentin",
    "Rosa",
    "Samuel",
    "Tessa",
    "Usman",
    "Violet",
    "Wesley",
    "Yasmin",
    "Zach",
    "Alys",
    "Bryn",
]
LAST = [
    "Ashdown",
    "Blake",
    "Carver",
    "Dhillon",
    "Ellison",
    "Fairweather",
    "Greaves",
    "Holloway",
    "Ingram",
    "Jarvis",
    "Khan",
    "Lowther",
    "Marsh",
    "Nolan",
    "Okafor",
    "Pryce",
    "Quinlan",
    "Rahman",
    "Stroud",
    "Thorne",
    "Underwood",
    "Vance",
    "Whitlock",
    "Yeo",
    "Zeller",
    "Abbott",
    "Bexley",
]

# Home cadre, by person number 1..27: 24 hold the negotiator role, 4 are
# coordinators and 2 advisers; some hold two roles.
COORDINATORS = {23, 24, 25, 26}
ADVISERS = {22, 27}
NON_NEGOTIATORS = {25, 26, 27}
LAPSING_SOON = {5: 12, 12: 33, 19: 54}  # person -> days left
LAPSED = {9: 20}  # person -> days since it lapsed
DEMO_LOGINS = (
    "coordinator",
    "supervisor",
    "negotiator",
    "avm-coordinator",
    "avm-negotiator",
    "regional-supervisor",
)
COORDINATOR_PERSON = 25  # the `coordinator` login
NEGOTIATOR_PERSON = 1  # the `negotiator` login (ALPHA-01)


def home_people():
    for n in range(1, 28):
        roles = [] if n in NON_NEGOTIATORS else ["negotiator"]
        roles += ["coordinator"] if n in COORDINATORS else []
        roles += ["adviser"] if n in ADVISERS else []
        yield n, f"{NATO[n - 1]}-{n:02d}", f"{FIRST[n - 1]} {LAST[n - 1]}", roles


def neighbour_people(prefix, offset):
    for n in range(1, 7):
        roles = ["negotiator", "coordinator"] if n == 6 else ["negotiator"]
        name = f"{FIRST[(n + offset) % 27]} {LAST[(n * 7 + offset) % 27]}"
        yield n, f"{prefix}-{n:02d}", name, roles


def accreditation_dates(n: int, today: date) -> list[tuple[str, date, date]]:
    """(kind, passed_on, valid_until) records for person n."""
    if n in LAPSED:
        end = today - timedelta(days=LAPSED[n])
    elif n in LAPSING_SOON:
        end = today + timedelta(days=LAPSING_SOON[n])
    else:
        end = today + timedelta(days=120 + (n * 53) % 600)
    course = end - timedelta(days=3 * 365)
    records = [("initial", course, course + timedelta(days=2 * 365))]
    records.append(("refresher", course + timedelta(days=2 * 365 - 30), end))
    return records


def demo_mobile(index: int) -> str:
    """Ofcom's drama range, so no real phone is ever texted by the demo."""
    return f"+447700900{index:03d}"


def upsert_negotiator(force, callsign, full_name, roles, mobile, today, n):
    negotiator, _ = Negotiator.objects.get_or_create(
        force=force,
        callsign=callsign,
        defaults={"full_name": full_name, "mobile": mobile, "is_negotiator": True},
    )
    negotiator.full_name = full_name
    negotiator.mobile = mobile
    negotiator.roles = roles
    negotiator.active = True
    negotiator.save()
    # Refreshed on each run so the demo always has the same shape relative to today.
    negotiator.accreditations.all().delete()
    Accreditation.objects.bulk_create(
        Accreditation(negotiator=negotiator, kind=kind, passed_on=start, valid_until=end)
        for kind, start, end in accreditation_dates(n, today)
    )
    return negotiator


def demo_login(username, memberships, negotiator=None):
    """A demo login with exactly `memberships` ({force: [login roles]}) and, optionally,
    its cadre record."""
    user, _ = User.objects.get_or_create(username=username)
    user.set_password(DEMO_PASSWORD)
    user.save()
    services.set_memberships(user, memberships, by=None)
    if negotiator is not None:
        Negotiator.objects.filter(user=user).exclude(pk=negotiator.pk).update(user=None)
        negotiator.user = user
        negotiator.save(update_fields=["user"])
    return user


def seed(stdout):
    """The demo cadre as of today (`manage.py seed_demo`)."""
    seed_cadre(timezone.localdate(), stdout)


def seed_cadre(today: date, stdout=None) -> dict:
    home, _ = Force.objects.update_or_create(code=HOME[1], defaults={"name": HOME[0]})
    people = {}
    for n, callsign, name, roles in home_people():
        people[n] = upsert_negotiator(home, callsign, name, roles, demo_mobile(n), today, n)
    neighbours = {}
    for i, (name, code, prefix) in enumerate(NEIGHBOURS, start=1):
        force, _ = Force.objects.update_or_create(code=code, defaults={"name": name})
        home.neighbours.add(force)
        neighbours[code] = force
        for n, callsign, full_name, roles in neighbour_people(prefix, i * 5):
            mobile = demo_mobile(100 * i + n)
            person = upsert_negotiator(force, callsign, full_name, roles, mobile, today, n + 2)
            neighbours[callsign] = person
    avm = neighbours["AVM"]
    coordinator, supervisor, negotiator = access.COORDINATOR, access.SUPERVISOR, access.NEGOTIATOR
    demo_login("coordinator", {home: [coordinator]}, people[COORDINATOR_PERSON])
    demo_login("supervisor", {home: [supervisor]})
    demo_login("negotiator", {home: [negotiator]}, people[NEGOTIATOR_PERSON])
    demo_login("avm-coordinator", {avm: [coordinator]}, neighbours["KESTREL-06"])
    demo_login("avm-negotiator", {avm: [negotiator]}, neighbours["KESTREL-01"])
    demo_login("regional-supervisor", {home: [supervisor], avm: [supervisor]})
    if stdout is not None:
        stdout.write(
            f"Demo cadre: {home.name} ({len(people)} people) and "
            f"{len(NEIGHBOURS)} neighbouring forces; logins {', '.join(DEMO_LOGINS)}"
        )
    return {"home": home, "people": people}
