"""The soak's cadre, policy and API token, written once into the template database.

Run as `python -m soak.seed` with DATABASE_URL set (Django in that process only);
prints the API token on stdout. Every scenario's database is a copy of it.

Force SOK, 30 people (+447700900100..129, Ofcom's drama range), every fifth also a
coordinator; on call now for a day: SOAK-01..06 as negotiators, SOAK-05 and
SOAK-10 as coordinators. Policy "Soak" (the default): SMS to those on call, then
after 1 minute SMS to every deployable member not yet asked; SMS only, so every
message the soak judges is one it can count at the stand-in. Policy "Soak everyone"
(scenario 8): the whole force at once by SMS and voice (the ledger judges the SMS; the
scenario judges every status callback itself).
"""

PEOPLE = 30
FIRST_MOBILE = 100
ON_CALL_NEGOTIATORS = range(1, 7)
ON_CALL_COORDINATORS = (5, 10)


def mobile(n: int) -> str:
    return f"+447700900{FIRST_MOBILE + n - 1:03d}"


def seed():
    import django

    django.setup()
    from datetime import date, timedelta

    from django.contrib.auth.models import User
    from django.utils import timezone

    from cadre.models import Accreditation, Force, Membership, Negotiator
    from callouts.models import EscalationPolicy, EscalationStep
    from callouts.web import tokens
    from roster.models import Shift
    from roster.queries import rota_for

    force = Force.objects.create(name="Soak Constabulary", code="SOK")
    people = {}
    for n in range(1, PEOPLE + 1):
        person = Negotiator(force=force, callsign=f"SOAK-{n:02d}", full_name=f"Soak {n}")
        person.mobile = mobile(n)
        person.roles = ["negotiator", "coordinator"] if n % 5 == 0 else ["negotiator"]
        person.save()
        Accreditation.objects.create(
            negotiator=person,
            kind="initial",
            passed_on=date(2020, 1, 1),
            valid_until=date.today() + timedelta(days=400),
        )
        people[n] = person
    now = timezone.now()
    rota = rota_for(force)
    on_call = [(n, "negotiator") for n in ON_CALL_NEGOTIATORS]
    on_call += [(n, "coordinator") for n in ON_CALL_COORDINATORS]
    for n, role in on_call:
        Shift.objects.create(
            rota=rota,
            negotiator=people[n],
            role=role,
            start=now - timedelta(hours=1),
            end=now + timedelta(hours=24),
        )
    policy = EscalationPolicy.objects.create(
        force=force, name="Soak", is_default=True, default_needs={"negotiator": 2}
    )
    EscalationStep.objects.create(
        policy=policy, position=1, audience="on_call", channel="sms", wait_minutes=1
    )
    EscalationStep.objects.create(
        policy=policy, position=2, audience="force", channel="sms", wait_minutes=10
    )
    # Scenario 8: the whole force asked at once by SMS and voice (60 messages), no wait.
    everyone = EscalationPolicy.objects.create(
        force=force, name="Soak everyone", default_needs={"negotiator": 2}
    )
    EscalationStep.objects.create(
        policy=everyone, position=1, audience="force", channel="both", wait_minutes=10
    )
    user = User.objects.create_user("soak", password=None)
    Membership.objects.create(user=user, force=force, is_coordinator=True)
    _, token = tokens.create(user, name="soak")
    print(token)


if __name__ == "__main__":
    seed()
