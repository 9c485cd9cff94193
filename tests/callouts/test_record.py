"""The deployment record and the incident's log, through the layers people use: the pages,
the API, Twilio's webhooks and the reply task."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cadre.access import SUPERVISOR
from cadre.models import Negotiator
from callouts.engine import clock
from callouts.models import (
    Callout,
    Deployment,
    EscalationPolicy,
    EscalationStep,
    Event,
    Incident,
    Message,
)
from callouts.web import tokens
from tests.factories import (
    make_callout,
    make_force,
    make_incident,
    make_membership,
    make_message,
    make_negotiator,
    make_user,
    post_signed,
    post_sms,
    raise_incident,
)

CONFIRM = {"confirm": "yes"}  # stand down and close ask first

pytestmark = pytest.mark.django_db
K = Event.Kind
RAISE = {
    "kind": "barricade",
    "location": "Maidstone",
    "rendezvous": "Car park B",
    "brief": "",
    "need_negotiator": "2",
    "need_coordinator": "1",
    "need_adviser": "0",
    "policy": "",
}


def reply(client, run_tasks, person, body, sid, now=None):
    """An SMS as Twilio posts it, then the escalator clock hands it to the reply task."""
    assert run_tasks(post_sms, client, person, body, sid).status_code == 200
    run_tasks(clock.tick, now or timezone.now())


def raise_by_form(client, run_tasks):
    data = {**RAISE, "force": Negotiator.objects.first().force_id}
    response = run_tasks(client.post, reverse("incident_raise"), data)
    assert response.status_code == 302
    return Incident.objects.get()


def kinds(incident, **filters):
    return list(Event.objects.filter(incident=incident, **filters).values_list("kind", flat=True))


def fill(client, run_tasks, on_call):
    reply(client, run_tasks, on_call["n1"], "Y 20", "SM-n1")
    reply(client, run_tasks, on_call["n2"], "Y", "SM-n2")
    reply(client, run_tasks, on_call["c1"], "Y 15", "SM-c1")


@pytest.mark.parametrize("end", ["incident_stand_down", "incident_close"])
def test_it_keeps_who_went_after_stand_down_and_close(
    coordinator_client, coordinator_user, on_call, run_tasks, end
):
    incident = raise_by_form(coordinator_client, run_tasks)
    fill(coordinator_client, run_tasks, on_call)
    assert Incident.objects.get().status == "filled"

    ended = run_tasks(coordinator_client.post, reverse(end, args=[incident.pk]), CONFIRM)
    assert ended.status_code == 302

    incident.refresh_from_db()
    assert incident.status in ("stood_down", "closed")
    assert incident.stood_down_by == coordinator_user
    board = coordinator_client.get(reverse("incident_board", args=[incident.pk])).context["board"]
    assert {r.role: (r.filled, r.needed) for r in board.roles} == {
        "negotiator": (2, 2),
        "coordinator": (1, 1),
    }
    rows = {r.callsign: r for r in board.rows}
    assert rows["N-ONE"].state == "stood_down" and rows["N-ONE"].went
    assert rows["N-ONE"].state_label == "Went, stood down"
    assert {r.callsign: r.role for r in board.going} == {
        "N-ONE": "negotiator",
        "N-TWO": "negotiator",
        "C-ONE": "coordinator",
    }
    html = coordinator_client.get(reverse("incident_list")).content.decode()
    went = html.split('class="went">')[1].split("</td>")[0]
    for callsign in ("N-ONE", "N-TWO", "C-ONE"):
        assert callsign in went
    listed = coordinator_client.get(reverse("incident_list")).context["rows"][0]
    assert listed["timing"].went == 3 and listed["timing"].to_first_acceptance is not None

    token = tokens.create(coordinator_user, "Control room")[1]
    data = coordinator_client.get(
        reverse("api_incident", args=[incident.pk]), HTTP_AUTHORIZATION=f"Bearer {token}"
    ).json()
    assert data["needs"] == {
        "negotiator": {"needed": 2, "filled": 2},
        "coordinator": {"needed": 1, "filled": 1},
    }
    asked = {a["callsign"]: a for a in data["asked"]}
    assert asked["C-ONE"]["role"] == "coordinator" and asked["C-ONE"]["went"] is True
    assert asked["C-ONE"]["state"] == "stood_down" and asked["C-ONE"]["stood_down_at"]
    assert data["stood_down_by"] == "coord"
    deployment = Deployment.objects.get(negotiator=on_call["n1"])
    assert deployment.stood_down_by == coordinator_user and deployment.went


def test_it_counts_an_eta_update_from_its_message_and_drops_it_on_arrival(
    coordinator_client, on_call, run_tasks, monkeypatch
):
    now = [timezone.now().replace(microsecond=0)]
    monkeypatch.setattr(timezone, "now", lambda: now[0])
    incident = raise_by_form(coordinator_client, run_tasks)
    start = now[0]
    reply(coordinator_client, run_tasks, on_call["n1"], "Y 20", "SM-1", now[0])
    now[0] = start + timedelta(minutes=5)
    reply(coordinator_client, run_tasks, on_call["n1"], "ETA 15", "SM-2", now[0])

    url = reverse("incident_board", args=[incident.pk])
    row = {r.callsign: r for r in coordinator_client.get(url).context["board"].rows}["N-ONE"]
    assert row.eta_at == start + timedelta(minutes=20)  # 17:29 + 15, not 17:24 + 15
    assert row.eta_minutes == 15

    now[0] = start + timedelta(minutes=18)
    reply(coordinator_client, run_tasks, on_call["n1"], "ARRIVED", "SM-3", now[0])
    response = coordinator_client.get(url)
    row = {r.callsign: r for r in response.context["board"].rows}["N-ONE"]
    assert row.eta_at is None
    assert row.arrived_at == start + timedelta(minutes=18)
    coming = response.content.decode().split('aria-label="Who is coming"')[1].split("</section>")[0]
    assert "arrived" in coming and "ETA" not in coming


def test_it_logs_every_change_of_an_sms_callout_as_it_happens(
    coordinator_client, coordinator_user, on_call, run_tasks, force
):
    incident = raise_by_form(coordinator_client, run_tasks)
    raised = Event.objects.get(incident=incident, kind=K.RAISED)
    assert raised.actor == coordinator_user
    assert raised.data["needs"] == {"negotiator": 2, "coordinator": 1}
    step = Event.objects.get(incident=incident, kind=K.STEP_FIRED)
    assert step.channel == "sms"
    assert step.data == {
        "round": 0,
        "step": 1,
        "audience": "on_call",
        "asked": 3,
        "alerted": 0,
        "missing": {"negotiator": 2, "coordinator": 1},
        "next_at": step.data["next_at"],
    }
    for kind in (K.MESSAGE_QUEUED, K.MESSAGE_SENT, K.MESSAGE_DELIVERED):
        assert len(kinds(incident, kind=kind)) == 3

    reply(coordinator_client, run_tasks, on_call["n1"], "Y 20", "SM-a")
    heard = Event.objects.get(incident=incident, kind=K.REPLY_RECEIVED)
    assert heard.data == {"text": "Y 20", "understood": "accept", "eta": 20}
    assert heard.negotiator == on_call["n1"]
    reply(coordinator_client, run_tasks, on_call["n1"], "ETA 10", "SM-b")
    reply(coordinator_client, run_tasks, on_call["n1"], "ARRIVED", "SM-c")
    reply(coordinator_client, run_tasks, on_call["n2"], "N", "SM-d")
    reply(coordinator_client, run_tasks, on_call["c1"], "Y", "SM-e")
    reply(coordinator_client, run_tasks, on_call["c1"], "N", "SM-f")
    reply(coordinator_client, run_tasks, on_call["c1"], "HELP", "SM-g")
    assert Callout.objects.get(negotiator=on_call["c1"]).keyword == "help"
    mine = kinds(incident, negotiator=on_call["c1"])
    assert [k for k in mine if not k.startswith("message_")] == [
        K.REPLY_RECEIVED,
        K.ACCEPTED,
        K.REPLY_RECEIVED,
        K.WITHDRAWN,
        K.REPLY_RECEIVED,  # HELP
    ]
    # Each answer SMS is queued, sent and delivered in the log too.
    assert mine.count(K.MESSAGE_DELIVERED) == 3
    assert [k for k in kinds(incident, negotiator=on_call["n1"]) if k in (K.ETA, K.ARRIVED)] == [
        K.ETA,
        K.ARRIVED,
    ]
    assert K.DECLINED in kinds(incident, negotiator=on_call["n2"])

    response = run_tasks(
        coordinator_client.post,
        reverse("incident_raise_needs", args=[incident.pk]),
        {"role": "coordinator", "count": "1"},
    )
    assert response.status_code == 302
    needs = Event.objects.get(incident=incident, kind=K.NEEDS_RAISED)
    assert (needs.actor, needs.role, needs.data["count"]) == (coordinator_user, "coordinator", 1)

    # The second round reached C-TWO (every deployable member, for the coordinator place).
    c2 = on_call["c2"]
    assert Callout.objects.filter(incident=incident, negotiator=c2).exists()
    reply(coordinator_client, run_tasks, on_call["n3"], "Y", "SM-h")
    reply(coordinator_client, run_tasks, c2, "Y", "SM-i")
    reply(coordinator_client, run_tasks, on_call["c1"], "Y", "SM-j")
    assert Incident.objects.get().status == "filled"
    filled = Event.objects.get(incident=incident, kind=K.FILLED)
    assert filled.data["going"] == {
        "N-ONE": "negotiator",
        "N-THREE": "negotiator",
        "C-TWO": "coordinator",
        "C-ONE": "coordinator",
    }
    assert K.ALERT in kinds(incident)  # the person who raised it is told, on the board
    assert Callout.objects.get(incident=incident, negotiator=on_call["n4"]).state == "stood_down"
    reply(coordinator_client, run_tasks, on_call["n4"], "Y 5", "SM-k")  # too late
    assert K.LATE in kinds(incident, negotiator=on_call["n4"])
    assert Deployment.objects.get(negotiator=on_call["n4"]).late

    run_tasks(coordinator_client.post, reverse("incident_stand_down", args=[incident.pk]), CONFIRM)
    run_tasks(coordinator_client.post, reverse("incident_close", args=[incident.pk]), CONFIRM)
    stood = Event.objects.get(incident=incident, kind=K.STOOD_DOWN)
    closed = Event.objects.get(incident=incident, kind=K.CLOSED)
    assert stood.actor == coordinator_user and closed.actor == coordinator_user
    people = Event.objects.filter(incident=incident, kind=K.PERSON_STOOD_DOWN)
    assert people.filter(data__went=True).exists() and people.filter(data__went=False).exists()

    logged = json.dumps(list(Event.objects.values_list("data", flat=True)))
    for person in on_call.values():
        assert person.mobile not in logged
        assert person.mobile[3:] not in logged


def test_it_logs_calls_failures_exhaustion_and_alerts_from_webhooks_and_the_clock(
    client, on_call, run_tasks, force, supervisor_user
):
    policy = EscalationPolicy.objects.create(force=force, name="Short")
    EscalationStep.objects.create(policy=policy, position=0, audience="on_call", channel="both")
    incident = run_tasks(raise_incident, force, policy="Short")
    assert Event.objects.get(incident=incident, kind=K.STEP_FIRED).channel == "both"

    sms = Message.objects.get(negotiator=on_call["n1"], channel="sms", purpose="callout")
    params = {"MessageSid": sms.provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}
    # The simulator marked it delivered; a real failure is for a message still in flight.
    Message.objects.filter(pk=sms.pk).update(status="sent")
    assert run_tasks(post_signed, client, "/twilio/status/", params).status_code == 204
    failed = Event.objects.get(incident=incident, kind=K.MESSAGE_FAILED)
    assert (failed.negotiator, failed.data["error_code"]) == (on_call["n1"], "30003")

    calls = {m.negotiator: m for m in Message.objects.filter(channel="voice", purpose="callout")}
    n1_call, n2_call = calls[on_call["n1"]], calls[on_call["n2"]]
    answered = {"CallSid": n1_call.provider_sid, "CallStatus": "in-progress"}
    assert run_tasks(post_signed, client, "/twilio/status/", answered).status_code == 204
    key = run_tasks(post_signed, client, f"/twilio/voice/{n1_call.pk}/key/", {"Digits": "2"})
    assert key.status_code == 200
    unanswered = {"CallSid": n2_call.provider_sid, "CallStatus": "no-answer"}
    assert run_tasks(post_signed, client, "/twilio/status/", unanswered).status_code == 204
    assert kinds(incident, negotiator=on_call["n1"], channel="voice")[-3:] == [
        K.CALL_ANSWERED,
        K.KEY_PRESSED,
        K.DECLINED,
    ]
    pressed = Event.objects.get(incident=incident, kind=K.KEY_PRESSED)
    assert pressed.data == {"key": "2", "understood": "decline"}
    assert K.CALL_UNANSWERED in kinds(incident, negotiator=on_call["n2"])

    run_tasks(clock.tick, timezone.now() + timedelta(minutes=6))
    incident.refresh_from_db()
    assert incident.status == "exhausted"
    exhausted = Event.objects.get(incident=incident, kind=K.EXHAUSTED)
    assert exhausted.data["missing"]["negotiator"] == 2
    # The on-call coordinator is texted and called; the supervisor has no phone on record.
    told = Event.objects.get(incident=incident, kind=K.UNFILLED)
    assert told.data["told"] == [{"callsign": "C-ONE", "as": "on-call coordinator"}]
    assert told.data["gaps"] == "no supervisor with a phone number on record"

    client.force_login(supervisor_user)
    response = client.get(reverse("incident_board", args=[incident.pk]))
    html = response.content.decode()
    assert "Policy exhausted, 2 negotiators, 1 coordinator missing." in html
    assert "<strong>C-ONE</strong> (on-call coordinator) by SMS delivered, call ringing" in html
    assert "Escalation stopped after step 1 of 1" in html
    assert "Next step" not in html


def test_it_shows_the_timeline_in_order_with_clock_time_and_time_since_raising(
    supervisor_client, on_call, run_tasks, force, client
):
    incident = run_tasks(raise_incident, force)
    reply(client, run_tasks, on_call["n1"], "Y 20", "SM-1")
    reply(client, run_tasks, on_call["n2"], "N", "SM-2")
    url = reverse("incident_timeline", args=[incident.pk])
    response = supervisor_client.get(url)
    assert response.status_code == 200
    lines = response.context["timeline"].lines
    assert lines[0].kind == "raised" and lines[0].t_plus == "T+0:00"
    assert [line.at for line in lines] == sorted(line.at for line in lines)
    assert len(lines) == Event.objects.filter(incident=incident).count()
    html = response.content.decode()
    assert "Accepted as negotiator, ETA 20 min" in html
    assert timezone.localtime(lines[0].at).strftime("%H:%M:%S") in html
    went = response.context["timeline"].roles[0]
    assert [d.callsign for d in went.people] == ["N-ONE"]

    only = supervisor_client.get(url, {"person": "N-TWO"}).context["timeline"].lines
    assert only and {line.callsign for line in only} == {"N-TWO"}
    nobody = supervisor_client.get(url, {"person": "NOBODY"})
    assert nobody.status_code == 200
    assert "Nobody called NOBODY" in nobody.content.decode()


def test_it_shows_a_negotiator_only_their_own_lines(client, on_call, run_tasks, force):
    user = make_user("n1-login")
    on_call["n1"].user = user
    on_call["n1"].save()
    incident = run_tasks(raise_incident, force)
    reply(client, run_tasks, on_call["n1"], "Y 20", "SM-1")
    reply(client, run_tasks, on_call["n2"], "Y", "SM-2")
    client.force_login(user)
    timeline = client.get(reverse("incident_timeline", args=[incident.pk])).context["timeline"]
    assert timeline.lines and {line.callsign for line in timeline.lines} == {"N-ONE"}
    assert [d.callsign for role in timeline.roles for d in role.people] == ["N-ONE"]
    other = make_incident(force)
    assert client.get(reverse("incident_timeline", args=[other.pk])).status_code == 404


def test_it_refuses_to_change_or_delete_an_event_or_a_message_in_the_admin(client, force):
    admin = make_user("root")
    admin.is_superuser = admin.is_staff = True
    admin.save()
    client.force_login(admin)
    incident = make_incident(force)
    event = Event.objects.create(incident=incident, kind=K.RAISED, data={"needs": {}})
    message = make_message(incident=incident, to_number="+447700900001", body="hello")
    for model, obj in (("event", event), ("message", message)):
        change = reverse(f"admin:callouts_{model}_change", args=[obj.pk])
        page = client.get(change)
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        assert client.post(change, {"kind": "closed", "body": "edited"}).status_code == 403
        delete = reverse(f"admin:callouts_{model}_delete", args=[obj.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse(f"admin:callouts_{model}_add")).status_code == 403
    event.refresh_from_db()
    message.refresh_from_db()
    assert event.kind == K.RAISED and message.body == "hello"
    with pytest.raises(ValueError):
        event.save()


def test_it_filters_the_incident_list(coordinator_client, coordinator_user, force):
    other = make_force("Avonmoor", "AVM")
    make_membership(coordinator_user, other, "coordinator")  # a regional coordinator
    old = make_incident(force, kind="hostage", status="closed")
    Incident.objects.filter(pk=old.pk).update(raised_at=timezone.now() - timedelta(days=400))
    live = make_incident(force, kind="barricade", mutual_aid=True)
    theirs = make_incident(other, kind="barricade")
    url = reverse("incident_list")

    def listed(**params):
        response = coordinator_client.get(url, params)
        assert response.status_code == 200
        return {row["incident"].pk for row in response.context["rows"]}

    assert listed() == {old.pk, live.pk, theirs.pk}
    assert listed(kind="hostage") == {old.pk}
    assert listed(status="closed") == {old.pk}
    assert listed(status="live") == {live.pk, theirs.pk}
    assert listed(mutual_aid="yes") == {live.pk}
    assert listed(force=other.pk) == {theirs.pk}
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert listed(since=since) == {live.pk, theirs.pk}
    assert listed(until=since) == {old.pk}
    response = coordinator_client.get(url, {"since": "31/31/2020", "until": "2020-01-01"})
    assert response.status_code == 200
    assert response.context["filters"].errors["since"]
    assert "Filters not applied" in response.content.decode()
    response = coordinator_client.get(url, {"since": "2026-02-01", "until": "2026-01-01"})
    assert "“To” is before “From”." in response.content.decode()


def test_it_pages_the_list_fifty_at_a_time_keeping_the_filters(coordinator_client, force):
    for _ in range(55):
        make_incident(force, kind="hostage")
    make_incident(force, kind="barricade")
    response = coordinator_client.get(reverse("incident_list"), {"kind": "hostage"})
    assert len(response.context["rows"]) == 50
    assert "kind=hostage&amp;page=2" in response.content.decode()
    second = coordinator_client.get(reverse("incident_list"), {"kind": "hostage", "page": 2})
    assert len(second.context["rows"]) == 5


def history(force, incidents, people):
    """Incidents with callouts, messages, deployments and events: more of everything."""
    cadre = [make_negotiator(force, f"H-{people}-{i}") for i in range(people)]
    made = []
    for _ in range(incidents):
        incident = make_incident(force, status="closed")
        for i, person in enumerate(cadre):
            callout = make_callout(incident, person, status="delivered", state="stood_down")
            make_message(callout, direction="in", body="STOP", purpose="inbound")
            Event.objects.create(incident=incident, kind=K.MESSAGE_QUEUED, negotiator=person)
            if i < 2:
                Deployment.objects.create(
                    incident=incident,
                    callout=callout,
                    negotiator=person,
                    role="negotiator",
                    accepted_at=timezone.now(),
                )
        made.append(incident)
    return made


def queries_for(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_it_reads_the_list_board_and_timeline_in_queries_that_do_not_grow(client, force):
    user = make_user("sup", [SUPERVISOR], force=force)
    client.force_login(user)
    small = history(force, 2, 2)[0]
    counts = [
        queries_for(client, reverse("incident_list")),
        queries_for(client, reverse("incident_board", args=[small.pk])),
        queries_for(client, reverse("incident_timeline", args=[small.pk])),
    ]
    large = history(force, 6, 8)[0]
    assert [
        queries_for(client, reverse("incident_list")),
        queries_for(client, reverse("incident_board", args=[large.pk])),
        queries_for(client, reverse("incident_timeline", args=[large.pk])),
    ] == counts


def test_it_brings_existing_incidents_over_to_the_record(force):
    from importlib import import_module

    from django.apps import apps

    from callouts.models import Response

    migration = import_module("callouts.migrations.0008_bring_over_deployments")
    incident = make_incident(force, status="stood_down")
    went = make_callout(
        incident, make_negotiator(force, "OLD-1"), state="stood_down", role="negotiator"
    )
    make_callout(incident, make_negotiator(force, "OLD-2"), state="stood_down")
    accepted = Response.objects.create(callout=went, channel="sms", kind="accept", eta_minutes=30)
    eta = Response.objects.create(callout=went, channel="sms", kind="eta", eta_minutes=10)

    migration.forwards(apps, None)

    deployment = Deployment.objects.get()
    assert (deployment.callout, deployment.role, deployment.went) == (went, "negotiator", True)
    assert deployment.accepted_at == accepted.received_at
    assert deployment.eta_at == eta.received_at + timedelta(minutes=10)
    assert K.ACCEPTED in kinds(incident) and K.RAISED in kinds(incident)


def test_it_tells_a_negotiator_how_many_went_without_saying_who(client, on_call, run_tasks, force):
    user = make_user("n1-login")
    on_call["n1"].user = user
    on_call["n1"].save()
    incident = run_tasks(raise_incident, force)
    reply(client, run_tasks, on_call["n1"], "N", "SM-1")
    reply(client, run_tasks, on_call["c1"], "Y 15", "SM-3")
    client.force_login(user)
    response = client.get(reverse("incident_timeline", args=[incident.pk]))
    html = response.content.decode()
    row = html[html.index('<tr data-role="coordinator"') :].split("</tr>")[0]
    assert "(1 of 1)" in row and "Nobody went" not in row
    assert "C-ONE" not in html
    coordinator = next(r for r in response.context["timeline"].roles if r.role == "coordinator")
    assert (coordinator.went, coordinator.needed, coordinator.people) == (1, 1, ())
