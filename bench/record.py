"""The deployment record at five years of history: the incident list, a timeline, a board.

One force with five years of incidents (2,500 incidents, 60,000 callouts, 100,000 messages,
150,000 events, 7,500 deployments) in a PostgreSQL database of its own
(standby_bench_record, dropped and re-created; BENCH_RECORD_DATABASE_URL). Each page is
fetched through Django's test client as a supervisor (server time: URL routing, views,
queries, templates; no network). Target: median under 150 ms each, with the same number of
SQL queries for the oldest incident as for the newest. Skipped, with a message, without
PostgreSQL.
"""

import os
import time
from datetime import timedelta

from bench.harness import page_figures, setup_django, show

INCIDENTS = 2_500
PER_INCIDENT = {"callouts": 24, "messages": 40, "events": 60, "deployments": 3}
PEOPLE = 40
GOAL_MS = 150
DATABASE_URL = "postgres://postgres@127.0.0.1:5432/standby_bench_record"


def seed():
    from django.contrib.auth.models import User
    from django.db import connection
    from django.utils import timezone

    from cadre.models import Force, Membership, Negotiator
    from callouts.models import Callout, Deployment, Event, Incident, Message

    force = Force.objects.create(name="Bench Constabulary", code="BRC")
    people = []
    for n in range(PEOPLE):
        person = Negotiator(
            force=force, callsign=f"REC-{n:02d}", full_name=f"Bench {n}", mobile=f"+4477009{n:05d}"
        )
        person.roles = ["negotiator", "coordinator"] if n % 5 == 0 else ["negotiator"]
        people.append(person)
    Negotiator.objects.bulk_create(people)
    kinds = ["barricade", "person_at_height", "suicide_intervention", "hostage", "other"]
    now = timezone.now()
    span = timedelta(days=5 * 365) / INCIDENTS
    incidents = Incident.objects.bulk_create(
        Incident(
            force=force,
            reference=f"BRC-R{i:05d}",
            kind=kinds[i % len(kinds)],
            location="Bench town",
            needs={"negotiator": 2, "coordinator": 1},
            policy_name="Standard",
            steps=[{"audience": "on_call", "channel": "sms", "wait_minutes": 3, "named": []}],
            step_index=0,
            status="closed" if i < INCIDENTS - 3 else "filled",
            mutual_aid=i % 9 == 0,
        )
        for i in range(INCIDENTS)
    )
    # auto_now_add wrote "now": spread them over five years, oldest first.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callouts_incident SET raised_at = %s + (id - %s) * %s",
            [now - span * INCIDENTS, incidents[0].pk, span],
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
                    keyword="stop" if k == 7 else "",
                )
            )
    Callout.objects.bulk_create(callouts, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callouts_callout c SET asked_at = i.raised_at + interval '1 minute',"
            " answered_at = i.raised_at + interval '3 minutes',"
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
            inbound = k >= len(mine) and k % 2
            messages.append(
                Message(
                    direction="in" if inbound else "out",
                    channel="sms",
                    purpose="inbound" if inbound else ("callout" if k < len(mine) else "reply"),
                    incident=incident,
                    callout=None if inbound else callout,
                    negotiator_id=callout.negotiator_id,
                    step=0 if k < len(mine) else None,
                    to_number="+447700900000",
                    from_number=callout.negotiator.mobile if inbound else "",
                    body="STOP" if inbound and k % 3 == 0 else "Y 20",
                    status="handled" if inbound else "delivered",
                )
            )
        for k in range(PER_INCIDENT["events"]):
            callout = mine[k % len(mine)]
            events.append(
                Event(
                    incident=incident,
                    at=at + timedelta(seconds=20 * k),
                    kind=["message_queued", "message_sent", "message_delivered"][k % 3]
                    if k
                    else "raised",
                    negotiator_id=None if k == 0 else callout.negotiator_id,
                    channel="sms",
                    data={"purpose": "callout", "step": 1} if k else {"needs": incident.needs},
                )
            )
        for callout in mine[: PER_INCIDENT["deployments"]]:
            deployments.append(
                Deployment(
                    incident=incident,
                    callout=callout,
                    negotiator_id=callout.negotiator_id,
                    role=callout.role,
                    accepted_at=at + timedelta(minutes=3),
                    eta_minutes=20,
                    eta_at=at + timedelta(minutes=23),
                    arrived_at=at + timedelta(minutes=25),
                    stood_down_at=at + timedelta(hours=2),
                )
            )
    Message.objects.bulk_create(messages, batch_size=5000)
    Event.objects.bulk_create(events, batch_size=5000)
    Deployment.objects.bulk_create(deployments, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE callouts_message m SET created_at = i.raised_at + interval '2 minutes'"
            " FROM callouts_incident i WHERE m.incident_id = i.id"
        )
        cursor.execute("ANALYZE")
    user = User.objects.create_user("bench-record")
    Membership.objects.create(user=user, force=force, is_supervisor=True)
    return user, incidents[0], incidents[-1]


def pages(user, oldest, newest):
    from django.test import Client

    client = Client()
    client.force_login(user)
    last = (INCIDENTS + 49) // 50
    filtered = "kind=barricade&status=closed&since=2000-01-01&until=2100-01-01&mutual_aid=no"
    urls = {
        "incident list, first page": "/incidents/",
        "incident list, oldest page": f"/incidents/?page={last}",
        "filtered list, first page": f"/incidents/?{filtered}",
        "filtered list, oldest page": f"/incidents/?{filtered}&page={last}",
        "timeline, oldest incident": f"/incidents/{oldest.pk}/timeline/",
        "timeline, newest incident": f"/incidents/{newest.pk}/timeline/",
        "board, oldest incident": f"/incidents/{oldest.pk}/",
        "board, newest incident": f"/incidents/{newest.pk}/",
    }
    return page_figures(client, urls, GOAL_MS)


def main():
    url = os.environ.get("BENCH_RECORD_DATABASE_URL", DATABASE_URL)
    from bench.webhook_load import recreate_database

    try:
        recreate_database(url)
    except Exception as error:  # psycopg.OperationalError, without importing psycopg here
        print(f"  skipped: cannot reach PostgreSQL for {url} ({error})")
        return
    os.environ["DATABASE_URL"] = url
    setup_django()
    start = time.perf_counter()
    user, oldest, newest = seed()
    print(
        f"  seeded {INCIDENTS} incidents, {INCIDENTS * PER_INCIDENT['callouts']} callouts, "
        f"{INCIDENTS * PER_INCIDENT['messages']} messages, "
        f"{INCIDENTS * PER_INCIDENT['events']} events in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    show(
        "five years of one force, as a supervisor (in-process client, PostgreSQL)",
        pages(user, oldest, newest),
    )
