"""Reports at five years of history: the figures page for a year and the workload table.

One force (with a neighbour) and five years of incidents in a PostgreSQL database of its own
(standby_bench_figures, dropped and re-created; BENCH_FIGURES_DATABASE_URL): 2,500 incidents,
60 negotiators, 60,000 callouts, 60,000 messages, 150,000 events, 7,500 deployments, a weekly
on-call rota. Each page is fetched through Django's test client as a supervisor (server time:
routing, views, queries, templates; no network). Target: median under 300 ms each, with the
same number of SQL queries for one year as for five. Skipped, with a message, without
PostgreSQL.
"""

import os
import time
from datetime import timedelta

from bench.harness import page_figures, setup_django, show

INCIDENTS = 2_500
PEOPLE = 60
PER_INCIDENT = {"callouts": 24, "messages": 24, "events": 60, "deployments": 3}
GOAL_MS = 300
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/standby_bench_figures"


def seed():
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from cadre.models import Force, Membership, Negotiator
    from callouts.models import Callout, Deployment, Event, Incident, Message
    from roster.models import Shift
    from roster.queries import rota_for

    force = Force.objects.create(name="Bench Constabulary", code="BFG")
    neighbour = Force.objects.create(name="Bench Neighbour", code="BNB")
    force.neighbours.add(neighbour)
    people = []
    for n in range(PEOPLE):
        person = Negotiator(
            force=force if n < PEOPLE - 4 else neighbour,
            callsign=f"FIG-{n:02d}",
            full_name=f"Bench {n}",
            mobile=f"+4477009{n:05d}",
        )
        person.roles = ["negotiator", "coordinator"] if n % 5 == 0 else ["negotiator"]
        people.append(person)
    Negotiator.objects.bulk_create(people)
    kinds = ["barricade", "person_at_height", "suicide_intervention", "hostage", "other"]
    now = timezone.now()
    span = timedelta(days=5 * 365) / INCIDENTS
    first = now - span * INCIDENTS
    incidents = Incident.objects.bulk_create(
        Incident(
            force=force,
            reference=f"BFG-F{i:05d}",
            kind=kinds[i % len(kinds)],
            location="Bench town",
            needs={"negotiator": 2, "coordinator": 1},
            policy_name="Standard",
            steps=[{"audience": "on_call", "channel": "sms", "wait_minutes": 3, "named": []}],
            step_index=0,
            status="closed",
            mutual_aid=i % 9 == 0,
        )
        for i in range(INCIDENTS)
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callouts_incident SET raised_at = %s + (id - %s) * %s,"
            " filled_at = CASE WHEN id %% 10 = 0 THEN NULL"
            "   ELSE %s + (id - %s) * %s + (id %% 17 + 3) * interval '1 minute' END,"
            " exhausted_at = CASE WHEN id %% 10 = 0 THEN %s + (id - %s) * %s"
            "   + interval '20 minutes' END",
            [first, incidents[0].pk, span] * 3,
        )
    raised = dict(Incident.objects.values_list("pk", "raised_at"))
    callouts = []
    for incident in incidents:
        for k in range(PER_INCIDENT["callouts"]):
            person = people[(incident.pk + k) % PEOPLE]
            went = k < PER_INCIDENT["deployments"]
            callouts.append(
                Callout(
                    incident=incident,
                    negotiator=person,
                    asked_roles=person.roles,
                    first_step=0,
                    state="stood_down" if k % 4 else "declined",
                    role=("coordinator" if k == 2 else "negotiator") if went else "",
                )
            )
    Callout.objects.bulk_create(callouts, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callouts_callout c SET asked_at = i.raised_at + interval '1 minute',"
            " answered_at = CASE WHEN c.id % 3 = 0 THEN NULL"
            "   ELSE i.raised_at + interval '3 minutes' END,"
            " stood_down_at = i.raised_at + interval '2 hours'"
            " FROM callouts_incident i WHERE c.incident_id = i.id"
        )
    by_incident = {}
    for callout in callouts:
        by_incident.setdefault(callout.incident_id, []).append(callout)
    messages, events, deployments = [], [], []
    for incident in incidents:
        at = raised[incident.pk]
        mine = by_incident[incident.pk]
        for k in range(PER_INCIDENT["messages"]):
            callout = mine[k % len(mine)]
            messages.append(
                Message(
                    channel="sms",
                    purpose="callout",
                    incident=incident,
                    callout=callout,
                    negotiator_id=callout.negotiator_id,
                    step=0,
                    to_number=callout.negotiator.mobile,
                    body="CALLOUT BFG: reply Y or N",
                    status="delivered",
                )
            )
        for k in range(PER_INCIDENT["events"]):
            callout = mine[k % len(mine)]
            step_fired = k in (1, 2)
            events.append(
                Event(
                    incident=incident,
                    at=at + timedelta(seconds=20 * k),
                    kind="step_fired"
                    if step_fired
                    else (
                        ["message_queued", "message_sent", "message_delivered"][k % 3]
                        if k
                        else "raised"
                    ),
                    negotiator_id=None if k < 3 else callout.negotiator_id,
                    channel=("voice" if incident.pk % 4 == 0 else "sms") if k == 2 else "sms",
                    data={"step": k, "asked": 6} if step_fired else {"purpose": "callout"},
                )
            )
        for j, callout in enumerate(mine[: PER_INCIDENT["deployments"]]):
            deployments.append(
                Deployment(
                    incident=incident,
                    callout=callout,
                    negotiator_id=callout.negotiator_id,
                    role=callout.role,
                    accepted_at=at + timedelta(minutes=3 + j + incident.pk % 7),
                    eta_minutes=20,
                    arrived_at=at + timedelta(minutes=25),
                    stood_down_at=at + timedelta(hours=2),
                )
            )
    Message.objects.bulk_create(messages, batch_size=5000)
    Event.objects.bulk_create(events, batch_size=5000)
    Deployment.objects.bulk_create(deployments, batch_size=5000)
    rota = rota_for(force)
    week = timedelta(days=7)
    Shift.objects.bulk_create(
        Shift(
            rota=rota,
            negotiator=people[(w * 3 + k) % (PEOPLE - 4)],
            role="negotiator",
            start=first + week * w,
            end=first + week * (w + 1),
        )
        for w in range(5 * 53)
        for k in range(3)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    user = User.objects.create_user("bench-figures")
    Membership.objects.create(user=user, force=force, is_supervisor=True)
    return user


def pages(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    urls = {
        "figures, last 12 months": "/reports/",
        "figures, five years": "/reports/?preset=custom&since=2000-01-01&until=2100-01-01",
        "workload table, 365 days": "/reports/workload/?days=365",
        "workload table, 30 days": "/reports/workload/?days=30&sort=deployments",
        "welfare follow-ups (dashboard list)": "/",
    }
    return page_figures(client, urls, GOAL_MS)


def main():
    url = os.environ.get("BENCH_FIGURES_DATABASE_URL", DATABASE_URL)
    from bench.webhook_load import recreate_database

    try:
        recreate_database(url)
    except Exception as error:  # psycopg.OperationalError, without importing psycopg here
        print(f"  skipped: cannot reach PostgreSQL for {url} ({error})")
        return
    os.environ["DATABASE_URL"] = url
    setup_django()
    start = time.perf_counter()
    user = seed()
    print(
        f"  seeded {INCIDENTS} incidents, {PEOPLE} negotiators, "
        f"{INCIDENTS * PER_INCIDENT['callouts']} callouts, "
        f"{INCIDENTS * PER_INCIDENT['messages']} messages, "
        f"{INCIDENTS * PER_INCIDENT['events']} events in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    show("five years of one force, as a supervisor (in-process client, PostgreSQL)", pages(user))
