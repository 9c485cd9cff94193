from datetime import UTC, datetime, timedelta

from django.core.management import call_command
from django.utils import timezone

from roster.models import Reminder
from roster.services import queue_reminders
from tests.factories import put_on

# Saturday 3 January 2026, noon: the Monday 08:00 shift starts in under two days.
NOW = datetime(2026, 1, 3, 12, tzinfo=UTC)


def test_it_queues_the_evening_before_reminder_once(rota, cadre):
    put_on(cadre["n1"])
    put_on(cadre["n1"], start=datetime(2026, 1, 12, 8, tzinfo=UTC))  # back to back: one period
    assert (
        queue_reminders(NOW - timedelta(days=1), by=None) == 0
    )  # Friday noon: more than 48 h ahead
    sunday = NOW + timedelta(days=1)
    queue_reminders(sunday, by=None)
    queue_reminders(sunday, by=None)
    reminder = Reminder.objects.get(kind="shift_start")
    assert reminder.negotiator == cadre["n1"]
    assert reminder.due_at == datetime(2026, 1, 4, 18, tzinfo=UTC)  # Sunday 18:00 GMT
    assert "from Mon 5 Jan 08:00 until Mon 19 Jan 08:00" in reminder.body
    assert cadre["n1"].full_name not in reminder.body
    assert reminder.mobile() == cadre["n1"].mobile
    assert list(Reminder.objects.due(sunday + timedelta(hours=7))) == [reminder]


def test_it_alerts_coordinators_to_a_gap_within_a_week(rota, cadre, coordinator_user):
    put_on(cadre["n1"])
    queue_reminders(NOW, by=None)
    queue_reminders(NOW, by=None)
    gaps = Reminder.objects.filter(kind="gap", user=coordinator_user)
    assert gaps.exists()
    assert gaps.count() == len({r.dedupe_key for r in gaps})
    assert any("nobody rostered" in r.body for r in gaps)


def test_it_cancels_a_reminder_whose_shift_went(rota, cadre):
    shift = put_on(cadre["n1"])
    sunday = NOW + timedelta(hours=20)
    queue_reminders(sunday, by=None)
    shift.superseded_at = sunday
    shift.save()
    queue_reminders(sunday, by=None)
    assert Reminder.objects.get(kind="shift_start").cancelled_at == sunday


def test_the_clock_queues_reminders_every_15_minutes():
    from config import jobs

    listed = {job.run: job.every for job in jobs.CLOCK}
    assert listed["roster.tasks.queue_reminders_now"] == 15 * 60


def test_the_command_queues_due_reminders_once(rota, cadre, capsys):
    put_on(cadre["n1"], start=timezone.now() + timedelta(hours=20), days=1)
    call_command("queue_reminders")
    call_command("queue_reminders")
    assert Reminder.objects.filter(kind="shift_start").count() == 1
    assert "Reminders queued: 0" in capsys.readouterr().out


def test_it_does_not_repeat_an_ongoing_gap_alert_every_run(rota, cadre, coordinator_user):
    put_on(cadre["n1"], start=NOW - timedelta(days=3), days=20)
    queue_reminders(NOW, by=None)
    first = Reminder.objects.filter(kind="gap").count()
    queue_reminders(NOW + timedelta(minutes=15), by=None)
    queue_reminders(NOW + timedelta(hours=3), by=None)
    assert first > 0
    assert Reminder.objects.filter(kind="gap").count() == first
