"""Roster reminders go out through the gateway; the escalator clock keeps going."""

from datetime import timedelta
from unittest import mock

from django.core.management import call_command
from django.db import DatabaseError
from django.utils import timezone

from callouts.engine import clock
from callouts.messaging import reminders
from callouts.models import Message
from roster.models import Reminder
from tests.factories import make_message, make_negotiator, raise_incident


def reminder(person, key, due_at=None, **fields):
    return Reminder.objects.create(
        kind="shift_start",
        negotiator=person,
        body="Standby: you are on call as negotiator from Mon 08:00 until Tue 08:00.",
        due_at=due_at or timezone.now() - timedelta(minutes=1),
        dedupe_key=key,
        **fields,
    )


def test_it_delivers_each_due_reminder_once(db, force, run_tasks):
    person = make_negotiator(force=force)
    due = reminder(person, "a")
    later = reminder(person, "b", due_at=timezone.now() + timedelta(hours=2))
    run_tasks(reminders.deliver_due)
    run_tasks(reminders.deliver_due)
    sms = Message.objects.get(purpose="reminder")
    assert (sms.to_number, sms.body, sms.status) == (person.mobile, due.body, "delivered")
    due.refresh_from_db()
    later.refresh_from_db()
    assert due.sent_at is not None and later.sent_at is None


def test_it_does_not_text_a_reminder_to_someone_who_sent_stop(db, force, run_tasks):
    person = make_negotiator(force=force)
    person.texts_stopped_at = timezone.now() - timedelta(days=1)
    person.save()
    due = reminder(person, "a")
    run_tasks(reminders.deliver_due)
    assert not Message.objects.filter(purpose="reminder").exists()
    due.refresh_from_db()
    assert due.cancelled_at is not None and due.sent_at is None


def test_it_closes_a_reminder_with_nobody_to_text_or_long_overdue(
    db, force, run_tasks, coordinator_user
):
    person = make_negotiator(force=force)
    stale = reminder(person, "stale", due_at=timezone.now() - timedelta(days=2))
    nobody = Reminder.objects.create(
        kind="gap", user=coordinator_user, body="Gap", due_at=timezone.now(), dedupe_key="gap"
    )
    run_tasks(reminders.deliver_due)
    assert not Message.objects.exists()
    for r in (stale, nobody):
        r.refresh_from_db()
        assert r.cancelled_at is not None and r.sent_at is None


def test_the_escalator_survives_a_database_error(db, capsys):
    with mock.patch.object(
        clock, "tick", side_effect=DatabaseError("server closed the connection")
    ):
        call_command("escalator", "--once")
    assert "stopped" in capsys.readouterr().out


def test_the_clock_fires_a_first_step_whose_task_was_lost(cadre, on_call, force, run_tasks):
    with mock.patch("callouts.tasks.enqueue_step"):
        incident = raise_incident(force, kind="other", location="Deal")
    run_tasks(clock.tick, timezone.now())
    assert not Message.objects.exists()
    # After its grace the clock fires it itself.
    run_tasks(clock.tick, timezone.now() + timedelta(seconds=3))
    assert Message.objects.filter(incident=incident, purpose="callout").count() == 3


def test_the_clock_sends_a_message_whose_queued_task_was_lost(db, force, run_tasks):
    lost = make_message(
        purpose="alert",
        to_number="+447700900555",
        body="x",
        next_attempt_at=timezone.now() - timedelta(seconds=1),
    )
    run_tasks(clock.tick)
    lost.refresh_from_db()
    assert lost.status == "delivered" and lost.attempts == 1
    run_tasks(clock.tick)
    lost.refresh_from_db()
    assert lost.attempts == 1


def test_one_failing_incident_does_not_hold_up_the_others(cadre, on_call, force, run_tasks):
    from callouts.engine import steps

    with mock.patch("callouts.tasks.enqueue_step"):
        first = raise_incident(force, kind="other", location="Deal")
        second = raise_incident(force, kind="hostage", location="Dover")
    real_fire = steps.fire

    def fire(pk, *args, **kwargs):
        if pk == first.pk:
            raise DatabaseError("lock timeout")
        return real_fire(pk, *args, **kwargs)

    with mock.patch.object(steps, "fire", side_effect=fire):
        run_tasks(clock.tick, timezone.now() + timedelta(seconds=3))
    assert Message.objects.filter(incident=second).exists()
    assert not Message.objects.filter(incident=first).exists()
