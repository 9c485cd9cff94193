"""rows.insert: the statement made once saves what the ORM would have saved."""

import pytest

from callouts import events, rows
from callouts.messaging import outbox
from callouts.models import Callout, Event, Incident, Message, Response
from tests.factories import make_callout, raise_incident


@pytest.mark.django_db
def test_it_saves_what_save_would_with_defaults_and_times(cadre, on_call, force):
    incident = raise_incident(force)
    [message] = rows.insert(
        [outbox.new_message(channel="sms", purpose="reply", to_number="+447700900001", body="Hi")]
    )
    saved = Message.objects.get(pk=message.pk)
    assert saved.direction == "out" and saved.status == "pending" and saved.attempts == 0
    assert saved.created_at == message.created_at is not None  # auto_now_add, on both
    assert saved.next_attempt_at == message.next_attempt_at
    assert message._state.adding is False
    callout = make_callout(incident, cadre["n1"])
    [response] = rows.insert([Response(callout=callout, kind="accept", channel="sms")])
    assert Response.objects.get(pk=response.pk).callout == callout


@pytest.fixture(params=[2, 1000], ids=["arrays", "values"])
def both_ways(request, monkeypatch):
    """Many rows as arrays a column (PostgreSQL), then as VALUES (what SQLite always does)."""
    monkeypatch.setattr(rows, "UNNEST_FROM", request.param)


@pytest.mark.django_db
def test_it_gives_each_of_many_rows_its_own_key_in_order(cadre, on_call, force, both_ways):
    incident = raise_incident(force)
    built = [
        events.build(incident, Event.Kind.REPLY_RECEIVED, text=f"reply {n} é ✓", eta=n)
        for n in range(5)
    ]
    rows.insert(built)
    for n, event in enumerate(built):
        saved = Event.objects.get(pk=event.pk)
        assert saved.data == {"text": f"reply {n} é ✓", "eta": n}
        assert saved.incident_id == incident.pk
    assert rows.insert([]) == []


@pytest.mark.django_db
def test_it_saves_many_rows_whole_nulls_and_longest_texts_included(
    cadre, on_call, force, both_ways
):
    """Many rows go as one array a column on PostgreSQL: nothing is cut short or mixed up."""
    incident = raise_incident(force)
    callout = make_callout(incident, cadre["n1"])
    longest = "x" * Message._meta.get_field("provider_sid").max_length
    built = [
        outbox.new_message(
            channel="sms",
            purpose="callout",
            incident=incident,
            callout=callout,
            negotiator=cadre["n1"],
            step=0,
            to_number="+447700900001",
            body="Call out: Maidstone. Reply Y or N",
            provider_sid=longest,
        ),
        outbox.new_message(channel="voice", purpose="reply", to_number="+447700900002", body=""),
        outbox.new_message(channel="sms", purpose="alert", to_number="+447700900003", body="é ✓"),
    ]
    rows.insert(built)
    for message in built:
        saved = Message.objects.get(pk=message.pk)
        for field in Message._meta.concrete_fields:
            assert getattr(saved, field.attname) == getattr(message, field.attname), field.name
    assert Message.objects.get(pk=built[0].pk).provider_sid == longest


@pytest.mark.django_db
def test_it_reads_an_instance_as_the_orm_would(cadre, on_call, force):
    incident = raise_incident(force)
    callout = make_callout(incident, cadre["n1"])
    read = rows.get(Incident, incident.pk, lock=True)
    orm = Incident.objects.get(pk=incident.pk)
    for field in Incident._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
    assert read.needs == orm.needs and isinstance(read.needs, dict)  # JSON, decoded
    assert rows.get(Callout, callout.pk).sms_unreachable is False  # a boolean, not 0
    with pytest.raises(Incident.DoesNotExist):
        rows.get(Incident, incident.pk + 1000)


@pytest.mark.django_db
def test_it_updates_only_the_fields_named(cadre, on_call, force):
    incident = raise_incident(force)
    callout = make_callout(incident, cadre["n1"])
    callout.state, callout.role = "accepted", "negotiator"
    callout.eta_minutes = 25  # changed on the instance but not named: not saved
    assert rows.update(callout, ("state", "role")) == 1
    saved = Callout.objects.get(pk=callout.pk)
    assert (saved.state, saved.role, saved.eta_minutes) == ("accepted", "negotiator", None)


@pytest.mark.django_db
def test_it_finds_the_sender_and_their_live_callouts_in_one_read(force):
    from datetime import timedelta

    from django.utils import timezone

    from callouts.engine.inbound import _sender
    from tests.factories import make_incident, make_negotiator

    number = "+447700911111"
    person = make_negotiator(force, mobile=number)
    closed = make_incident(force, status="closed")
    older, newer = make_incident(force), make_incident(force)
    make_callout(closed, person)
    assert _sender(number) == (person, [])  # known, nothing live
    now = timezone.now()
    later = make_callout(newer, person)
    earlier = make_callout(older, person)
    Callout.objects.filter(pk=earlier.pk).update(asked_at=now - timedelta(minutes=5))
    found, live = _sender(number)
    assert found == person
    assert [c.pk for c in live] == [earlier.pk, later.pk]  # oldest first
    assert live[0].incident.reference == older.reference
    assert live[0].incident.location == older.location  # anything else is read when needed
    assert live[0].negotiator.roles == person.roles
    assert _sender("+447700999999") == (None, [])


@pytest.mark.django_db
def test_it_inserts_no_more_rows_a_statement_than_the_database_takes(
    cadre, on_call, force, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    incident = raise_incident(force)
    # SQLite builds differ (999, 32,766 or 250,000 parameters): Django's batch size says.
    monkeypatch.setattr(connection.ops, "bulk_batch_size", lambda fields, objs: 7)
    built = [events.build(incident, Event.Kind.REPLY_RECEIVED, text=str(n)) for n in range(20)]
    with CaptureQueriesContext(connection) as queries:
        rows.insert(built)
    assert sum(q["sql"].startswith("INSERT") for q in queries) == 3
    saved = Event.objects.filter(kind=Event.Kind.REPLY_RECEIVED).order_by("pk")
    assert [e.data["text"] for e in saved] == [str(n) for n in range(20)]
    assert [e.pk for e in built] == [e.pk for e in saved]


@pytest.mark.django_db
def test_a_stand_down_made_twice_is_kept_once_and_the_others_saved(
    cadre, on_call, force, both_ways
):
    """A unique constraint met by many rows at once reads as Django's IntegrityError on
    either path, so outbox.insert keeps the new rows and leaves out the one that exists."""
    incident = raise_incident(force)
    callouts = [make_callout(incident, cadre[key]) for key in ("n1", "n2", "c1")]

    def stand_down(callout):
        return outbox.new_message(
            channel="sms",
            purpose="stand_down",
            incident=incident,
            callout=callout,
            negotiator=callout.negotiator,
            round=incident.round,
            to_number=callout.negotiator.mobile,
            body="Stand down.",
        )

    outbox.insert([stand_down(callouts[0])])
    saved = outbox.insert([stand_down(c) for c in callouts])
    assert [m.callout_id for m in saved] == [c.pk for c in callouts[1:]]
    stand_downs = Message.objects.filter(incident=incident, purpose="stand_down")
    assert sorted(stand_downs.values_list("callout_id", flat=True)) == [c.pk for c in callouts]
