"""Demo history: a year of past Wessex incidents, made through the real services and engine.

Called by `manage.py seed_demo` after the other apps (the foundation's hook). Each incident
is raised with callouts.services, its steps fired by callouts.engine.steps, its answers
recorded by callouts.engine.answers and it is stood down and closed by callouts.services,
each under a clock set to that moment, so the deployment record and the event log are the
ones a real incident leaves. Messages are handed over as the simulator would (sent and
delivered; calls not answered) and nothing is queued. Follow-ups are recorded through
reports.services, debriefs through callouts.services. Deterministic (a seeded random
generator; dates relative to today) and safe to run again (it does nothing the second time).
"""

import random
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from unittest import mock

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone

from cadre.models import Force
from cadre.rules import local_tz
from callouts import events, services, tasks
from callouts.engine import answers, steps
from callouts.models import Deployment, Incident, IncidentKind, Message
from reports import services as report_services
from roster import services as roster_services
from roster.models import RotationPattern
from roster.queries import rota_for

DEMO_BRIEF = "Demo history (seed_demo)."
AREAS = [
    "Wessex city centre",
    "Kingsbridge viaduct",
    "Harbourside flats",
    "Marlow Road estate",
    "Ashcombe services",
    "Northgate multi-storey",
    "Priory Park",
    "Castle Street",
]
KINDS = [
    (IncidentKind.PERSON_AT_HEIGHT, 5),
    (IncidentKind.SUICIDE_INTERVENTION, 4),
    (IncidentKind.BARRICADE, 3),
    (IncidentKind.HOSTAGE, 1),
    (IncidentKind.KIDNAP_EXTORTION, 1),
    (IncidentKind.OTHER, 1),
]
# People with a habit: one who has stopped answering lately, one who always goes.
SILENT, KEEN = "KILO-11", "ALPHA-01"


@contextmanager
def clock(at):
    """Everything in the block (auto_now, services, the engine) believes it is `at`."""
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


@contextmanager
def nothing_queued():
    """The history is played out here: no task is queued for it."""
    names = [n for n in dir(tasks) if n.startswith("enqueue_") or n.endswith("_now")]
    with mock.patch.multiple(tasks, **{n: lambda *a, **k: None for n in names}):
        yield


def handed_over(incident, at):
    """Saved messages go as the simulator sends them: SMS delivered, calls not answered."""
    pending = list(Message.objects.filter(incident=incident, status=Message.Status.PENDING))
    logged = []
    for m in pending:
        if m.channel == "voice":
            m.status = Message.Status.NO_ANSWER
            logged.append(events.for_message(m, events.K.CALL_UNANSWERED, at=at))
        else:
            m.status = Message.Status.DELIVERED
            logged += [
                events.for_message(m, events.K.MESSAGE_SENT, at=at),
                events.for_message(m, events.K.MESSAGE_DELIVERED, at=at + timedelta(seconds=2)),
            ]
        m.sent_at, m.status_at, m.next_attempt_at = at, at, None
        m.attempts = 1
    Message.objects.bulk_update(
        pending, ["status", "sent_at", "status_at", "next_attempt_at", "attempts"]
    )
    events.insert(logged)


def past_rota(force, today, days):
    """The weekly rotations laid over the past year too (roster's demo covers this month on)."""
    rota = rota_for(force)
    first = today.replace(day=1)
    for pattern in RotationPattern.objects.filter(rota=rota):
        if pattern.order:
            roster_services.generate(
                rota,
                pattern,
                first - timedelta(days=days + 7),
                first - timedelta(days=1),
                confirm=True,
                reason="Demo history",
                by=None,
            )


def play(rng, force, raised_at, raiser, supervisor, recent):
    """One incident from raising to closing, through the real services and engine."""
    kind = rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
    needs = {"negotiator": 2, "coordinator": 1}
    if kind in (IncidentKind.HOSTAGE, IncidentKind.KIDNAP_EXTORTION):
        needs = {"negotiator": 3, "coordinator": 1, "adviser": 1}
    with clock(raised_at):
        incident = services.raise_incident(
            force=force,
            kind=kind,
            location=rng.choice(AREAS),
            rendezvous="Police cordon, north side",
            brief=DEMO_BRIEF,
            needs=needs,
            by=raiser,
        )
    plan: dict[int, tuple] = {}
    now = raised_at
    for _ in range(200):
        incident.refresh_from_db()
        if incident.status != Incident.Status.CALLING:
            break
        for callout in incident.callouts.select_related("negotiator").exclude(pk__in=plan):
            on_call = callout.first_step == 0
            plan[callout.pk] = answer_for(rng, callout.negotiator.callsign, now, recent, on_call)
        due_answers = [(at, pk, kind) for pk, (at, kind, _) in plan.items() if at and at > now]
        moments = [at for at, _, _ in due_answers]
        if incident.next_step_at:
            moments.append(max(incident.next_step_at, now))
        if not moments:
            break
        now = min(moments)
        if incident.next_step_at and incident.next_step_at <= now:
            with clock(now):
                steps.fire(incident.pk, now=now)
                handed_over(incident, now)
        for at, pk, kind in sorted(due_answers):
            if at == now:
                with clock(at):
                    answers.record(pk, kind, eta=plan[pk][2], incident_id=incident.pk)
                    handed_over(incident, at)
    incident.refresh_from_db()
    # Arrivals, then stand down and close a few hours on.
    for d in Deployment.objects.went().filter(incident=incident):
        arrived = d.accepted_at + timedelta(minutes=(d.eta_minutes or 20) + rng.randint(-3, 8))
        with clock(arrived):
            answers.record(d.callout_id, "arrived", incident_id=incident.pk)
            handed_over(incident, arrived)
    over = raised_at + timedelta(minutes=rng.randint(70, 300))
    with clock(over):
        services.stand_down(incident, by=raiser)
        handed_over(incident, over)
    with clock(over + timedelta(minutes=20)):
        incident = services.close(incident, by=raiser)
        handed_over(incident, over + timedelta(minutes=20))
    if rng.random() < 0.7:
        with clock(over + timedelta(days=1)):
            services.save_debrief(
                incident,
                outcome=rng.choice(OUTCOMES),
                lessons=rng.choice(LESSONS),
                by=supervisor,
            )
    return incident


OUTCOMES = [
    "Subject came down safely and was taken to hospital under s136.",
    "Subject surrendered after four hours of negotiation; no injuries.",
    "Resolved by the family's arrival; negotiators stood down early.",
    "Subject detained by officers after negotiation; taken into custody.",
]
LESSONS = [
    "",
    "Rendezvous was hard to find at night; give a what3words address.",
    "Second negotiator took long to arrive: consider a closer on-call area.",
    "Handover between negotiators worked well; keep the written log format.",
]


def answer_for(rng, callsign, now, recent, on_call=False):
    """(when, accept or decline, eta) for someone just asked; None when they will not answer."""
    if callsign == SILENT and now >= recent - timedelta(days=90):
        return (None, None, None)
    if callsign == KEEN and now >= recent:
        return (now + timedelta(seconds=50), "accept", 15)
    roll = rng.random()
    if on_call:  # on call: usually quick
        if roll < 0.8:
            return (
                now + timedelta(seconds=rng.randint(30, 200)),
                "accept",
                rng.choice([15, 20, 25]),
            )
        roll = rng.random()
    delay = timedelta(seconds=rng.randint(40, 9 * 60))
    if roll < 0.55:
        return (now + delay, "accept", rng.choice([10, 15, 20, 25, 30, 40]))
    if roll < 0.8:
        return (now + delay, "decline", None)
    return (None, None, None)


def seed(stdout):
    force = Force.objects.filter(code="WSX").first()
    raiser = User.objects.filter(username="coordinator").first()
    supervisor = User.objects.filter(username="supervisor").first()
    if force is None or Incident.objects.filter(force=force, brief=DEMO_BRIEF).exists():
        stdout.write("Demo history: already there")
        return
    rng = random.Random(12)
    days = settings.DEMO_HISTORY_DAYS
    tz = local_tz()
    today = timezone.localdate()
    now = timezone.now()
    recent = now - timedelta(days=30)
    with nothing_queued():
        past_rota(force, today, days)
        made = []
        day = today - timedelta(days=days)
        while day < today - timedelta(days=1):
            day += timedelta(days=rng.choice([1, 2, 3, 3, 4, 5]))
            hour = rng.choice([1, 3, 9, 11, 14, 16, 18, 20, 22, 23])
            at = datetime.combine(day, time(hour, rng.randint(0, 59)), tz)
            if at < now - timedelta(hours=8):
                made.append(play(rng, force, at, raiser, supervisor, recent))
    followed = 0
    owed = Deployment.objects.went().filter(incident__in=made, stood_down_at__isnull=False)
    for d in owed.order_by("stood_down_at"):
        if d.stood_down_at > now - timedelta(days=6) or rng.random() < 0.04:
            continue  # still open, or overdue: the dashboard shows them
        held = d.stood_down_at + timedelta(hours=rng.randint(18, 70))
        report_services.record_follow_up(
            d,
            outcome="declined" if rng.random() < 0.1 else "done",
            held_at=min(held, now),
            note=rng.choice(["Spoke by phone; coping well.", "Met for coffee; offered TRiM.", ""]),
            by=supervisor,
        )
        followed += 1
    stdout.write(
        f"Demo history: {len(made)} past incidents for {force.code} over {days} days, "
        f"{owed.count()} deployments, {followed} follow-ups recorded"
    )
