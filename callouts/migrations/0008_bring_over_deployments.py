"""Existing incidents brought over to the permanent record, from what their rows hold.

- A deployment for everyone who kept a role (stand-down never cleared it) or accepted
  late: accepted at their first acceptance, ETA from their last ETA counted from the
  message that gave it, arrived and stood-down times from the callout.
- The mutual-aid flag, where someone of another force was asked.
- The last carrier keyword (STOP, START, HELP) each person sent since being asked.
- The incident's log from its timestamps and answers, each event marked `from_records`
  (the log proper starts with this release; nothing here is guessed).
"""

from datetime import timedelta

from django.db import migrations
from django.db.models import F

KEYWORDS = {"opt_out": "stop", "opt_in": "start", "help": "help"}


def forwards(apps, schema_editor):
    from callouts.messaging.replies import parse

    Incident = apps.get_model("callouts", "Incident")
    Callout = apps.get_model("callouts", "Callout")
    Response = apps.get_model("callouts", "Response")
    Deployment = apps.get_model("callouts", "Deployment")
    Event = apps.get_model("callouts", "Event")
    Message = apps.get_model("callouts", "Message")

    responses = {}
    for r in Response.objects.order_by("received_at", "pk").iterator():
        responses.setdefault(r.callout_id, []).append(r)

    deployments = []
    for c in Callout.objects.filter(deployment__isnull=True).iterator():
        if not c.role and not c.late:
            continue
        mine = responses.get(c.pk, [])
        accepts = [r for r in mine if r.kind == "accept"]
        accepted_at = accepts[0].received_at if accepts else (c.answered_at or c.asked_at)
        timed = [r for r in mine if r.kind in ("accept", "eta") and r.eta_minutes is not None]
        eta = timed[-1] if timed else None
        deployments.append(
            Deployment(
                incident_id=c.incident_id,
                callout_id=c.pk,
                negotiator_id=c.negotiator_id,
                role=c.role if not c.late else "",
                late=c.late,
                accepted_at=accepted_at,
                eta_minutes=eta.eta_minutes if eta else c.eta_minutes,
                eta_at=eta.received_at + timedelta(minutes=eta.eta_minutes) if eta else None,
                arrived_at=c.arrived_at,
                stood_down_at=c.stood_down_at if c.state == "stood_down" else None,
            )
        )
    Deployment.objects.bulk_create(deployments, batch_size=1000)

    aided = Callout.objects.exclude(negotiator__force_id=F("incident__force_id"))
    Incident.objects.filter(pk__in=aided.values("incident_id")).update(mutual_aid=True)

    said = {}
    inbound = Message.objects.filter(direction="in", channel="sms", negotiator__isnull=False)
    for negotiator_id, at, body in inbound.order_by("created_at", "pk").values_list(
        "negotiator_id", "created_at", "body"
    ):
        word = KEYWORDS.get(parse(body).kind)
        if word:
            said.setdefault(negotiator_id, []).append((at, word))
    for c in Callout.objects.filter(negotiator_id__in=said).iterator():
        sent = [word for at, word in said[c.negotiator_id] if at >= c.asked_at]
        if sent:
            Callout.objects.filter(pk=c.pk).update(keyword=sent[-1])

    logged = set(Event.objects.values_list("incident_id", flat=True).distinct())
    lines = []
    for incident in Incident.objects.exclude(pk__in=logged).iterator():
        base = {"from_records": True}
        lines.append(
            Event(
                incident_id=incident.pk,
                kind="raised",
                at=incident.raised_at,
                actor_id=incident.raised_by_id,
                data={**base, "needs": incident.needs, "policy": incident.policy_name},
            )
        )
        for kind, at in (
            ("filled", incident.filled_at),
            ("exhausted", incident.exhausted_at),
            ("stood_down", incident.stood_down_at),
            ("closed", incident.closed_at),
        ):
            if at:
                lines.append(Event(incident_id=incident.pk, kind=kind, at=at, data=base))
    for c in Callout.objects.exclude(incident_id__in=logged).iterator():
        for r in responses.get(c.pk, []):
            kind = {"accept": "late" if r.late else "accepted", "decline": "declined"}.get(
                r.kind, r.kind
            )
            data = {"from_records": True}
            if r.eta_minutes is not None:
                data["eta"] = r.eta_minutes
            lines.append(
                Event(
                    incident_id=c.incident_id,
                    kind=kind,
                    at=r.received_at,
                    negotiator_id=c.negotiator_id,
                    channel=r.channel,
                    role=c.role if kind in ("accepted", "eta", "arrived") else "",
                    data=data,
                )
            )
    Event.objects.bulk_create(lines, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("callouts", "0007_deployment_record")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
