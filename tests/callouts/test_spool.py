"""A reply is never lost to a database outage: the SMS webhook spools it on disk, and it is
taken in, in order and once, when the database is back."""

import json
import os
import stat
import time
from datetime import timedelta
from unittest import mock

import psycopg
import psycopg_pool
import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from callouts.engine import clock, inbound, intake
from callouts.messaging import spool
from callouts.models import Callout, Message
from config import database, jobs
from tests.factories import post_sms, raise_incident, sign

DOWN = OperationalError("connection to server at 127.0.0.1 failed: Connection refused")


def database_down(error=DOWN):
    """Every insert of an inbound SMS fails, as with the database stopped."""
    return mock.patch("callouts.engine.intake._insert", side_effect=error)


STRANGER = "+447700900111"


def spooled():
    return [json.loads(path.read_text()) for path in spool.pending()]


@pytest.mark.parametrize(
    "error",
    [
        DOWN,
        InterfaceError("connection already closed"),
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg_pool.PoolTimeout("couldn't get a connection after 3.00 sec"),
    ],
    ids=["operational", "interface", "psycopg", "pool-timeout"],
)
def test_it_spools_the_sms_and_answers_twilio_as_usual_when_the_database_is_down(client, db, error):
    usual = post_sms(client, STRANGER, "Y", sid="SMusual")
    with database_down(error):
        response = post_sms(client, "+447700900222", "Y 20", sid="SMdown")
    assert response.status_code == 200
    assert response["Content-Type"] == usual["Content-Type"]
    assert response.content == usual.content
    [kept] = spooled()
    assert (kept["sid"], kept["from"], kept["to"], kept["body"]) == (
        "SMdown",
        "+447700900222",
        "+447700900000",
        "Y 20",
    )
    assert not Message.objects.filter(provider_sid="SMdown").exists()


def test_a_spooled_file_is_whole_private_and_named_in_arrival_order(client, db):
    with database_down():
        for i in range(3):
            post_sms(client, STRANGER, "Y", sid=f"SMorder{i}")
    paths = spool.pending()
    assert [json.loads(p.read_text())["sid"] for p in paths] == ["SMorder0", "SMorder1", "SMorder2"]
    assert all(p.name.endswith(f"-SMorder{i}.sms") for i, p in enumerate(paths))
    assert stat.S_IMODE(paths[0].stat().st_mode) == 0o600
    # Only whole files: no temporary one is left behind.
    assert sorted(os.listdir(settings.SPOOL_DIR)) == sorted(p.name for p in paths)


def test_a_forged_request_never_reaches_the_spool(client, db):
    params = {"From": "+447700900111", "To": "+4477", "Body": "Y", "MessageSid": "SMforged"}
    forged = sign(settings.PUBLIC_BASE_URL + "/twilio/sms/", {**params, "Body": "N"})
    with database_down():
        assert (
            client.post("/twilio/sms/", params, HTTP_X_TWILIO_SIGNATURE=forged).status_code == 403
        )
        assert client.post("/twilio/sms/", params).status_code == 403
    assert spooled() == []


def test_it_takes_the_spool_in_in_order_exactly_once_keeping_the_arrival_time(client, db):
    with database_down():
        for i in range(3):
            post_sms(client, STRANGER, f"message {i}", sid=f"SMq{i}")
    arrived = [spool.read(p).received_at for p in spool.pending()]
    time.sleep(0.01)

    drained = intake.take_in_spool()
    assert (drained.taken, drained.duplicates, drained.left) == (3, 0, False)
    assert spool.pending() == []
    taken = list(Message.objects.filter(direction="in").order_by("pk"))
    assert [m.provider_sid for m in taken] == ["SMq0", "SMq1", "SMq2"]
    assert [m.created_at for m in taken] == arrived
    assert [m.status_at for m in taken] == arrived
    assert all(m.status == "received" and m.next_attempt_at > m.created_at for m in taken)

    # Again: nothing more.
    assert intake.take_in_spool().taken == 0
    assert Message.objects.filter(direction="in").count() == 3


def test_a_message_taken_in_before_is_dropped_from_the_spool(client, db):
    """A crash between the insert and the file's removal: the unique MessageSid drops the copy."""
    post_sms(client, STRANGER, "Y", sid="SMtwice")
    spool.keep("SMtwice", "+447700900111", "+447700900000", "Y", timezone.now())
    drained = intake.take_in_spool()
    assert (drained.taken, drained.duplicates) == (0, 1)
    assert spool.pending() == []
    assert Message.objects.filter(provider_sid="SMtwice").count() == 1


def test_a_file_whose_insert_fails_stays_in_the_spool(client, db):
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMa")
        post_sms(client, STRANGER, "Y", sid="SMb")
    real = intake._insert
    calls = []

    def first_only(**fields):
        calls.append(fields["provider_sid"])
        if len(calls) > 1:
            raise DOWN  # the database goes again after the first
        return real(**fields)

    with mock.patch("callouts.engine.intake._insert", side_effect=first_only):
        drained = intake.take_in_spool()
    assert (drained.taken, drained.database_down, drained.left) == (1, True, True)
    assert [item["sid"] for item in spooled()] == ["SMb"]
    assert list(Message.objects.values_list("provider_sid", flat=True)) == ["SMa"]
    assert intake.take_in_spool().taken == 1
    assert spooled() == []


def test_a_file_that_is_not_an_sms_is_set_aside_and_holds_nothing_up(client, db):
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMbefore")
    folder = settings.SPOOL_DIR
    (folder / "00000000000000000001-SMbroken.sms").write_text("{not json")
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMafter")
    assert intake.take_in_spool().taken == 2
    assert [p.name for p in spool.rejected()] == ["00000000000000000001-SMbroken.sms"]
    assert set(Message.objects.values_list("provider_sid", flat=True)) == {"SMbefore", "SMafter"}


def test_the_next_request_takes_in_the_spool_before_its_own_message(
    client, cadre, force, run_tasks
):
    """03:12:05 "Y" is spooled; at 03:12:40, after recovery, "ETA 10" arrives from the
    same phone: the spooled reply goes in first, and is handled first."""
    run_tasks(raise_incident, force)
    person = cadre["n1"]
    with database_down():
        post_sms(client, person.mobile, "Y", sid="SMspooled")
    response = post_sms(client, person.mobile, "ETA 10", sid="SMdirect")
    assert response.status_code == 200
    assert spooled() == []
    first, second = Message.objects.filter(direction="in").order_by("pk")
    assert (first.provider_sid, second.provider_sid) == ("SMspooled", "SMdirect")
    run_tasks(inbound.handle, second.pk)
    callout = Callout.objects.get(negotiator=person)
    assert (callout.state, callout.eta_minutes) == ("accepted", 10)


def test_while_the_spool_cannot_be_emptied_a_new_message_joins_it_behind(client, db):
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMfirst")
    with mock.patch("callouts.engine.intake.take_in_spool") as drain:
        drain.return_value = intake.Drained(database_down=True, left=True)
        post_sms(client, STRANGER, "Y", sid="SMsecond")
    assert [item["sid"] for item in spooled()] == ["SMfirst", "SMsecond"]
    assert not Message.objects.exists()


def test_the_webhook_lists_the_spool_only_when_it_may_hold_messages(client, db):
    folder = settings.SPOOL_DIR
    post_sms(client, STRANGER, "Y", sid="SMnone")  # no spool folder: nothing to list
    folder.mkdir()
    settled = time.time_ns() - 10**9
    os.utime(folder, ns=(settled, settled))
    with mock.patch("callouts.messaging.spool.os.scandir", wraps=os.scandir) as listing:
        for i in range(5):
            assert post_sms(client, STRANGER, "Y", sid=f"SMfast{i}").status_code == 200
    assert listing.call_count == 1  # found empty once, then known empty
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMslow")
    with mock.patch("callouts.messaging.spool.os.scandir", wraps=os.scandir) as listing:
        post_sms(client, STRANGER, "Y", sid="SMback")
    assert listing.call_count >= 1
    assert Message.objects.filter(direction="in").count() == 8


def test_the_drain_is_a_clock_job_and_the_escalator_runs_it(client, db):
    [job] = [job for job in jobs.CLOCK if job.run == "callouts.engine.intake.take_in_spool"]
    assert job.every <= 1
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMclock")
    call_command("escalator", "--once")
    assert Message.objects.filter(provider_sid="SMclock").exists()
    assert spooled() == []


def test_the_web_process_takes_in_its_spool_by_itself_when_the_database_returns(
    client, transactional_db, settings
):
    """The escalator may run on another machine and no further request may come."""
    settings.SPOOL_RETRY_SECONDS = 1
    real, calls = intake._insert, []

    def down_once(**fields):
        calls.append(fields["provider_sid"])
        if len(calls) == 1:
            raise DOWN
        return real(**fields)

    with mock.patch("callouts.engine.intake._insert", side_effect=down_once):
        post_sms(client, STRANGER, "Y", sid="SMalone")
        assert [item["sid"] for item in spooled()] == ["SMalone"]
        deadline = time.monotonic() + 10
        while intake._retry_running and time.monotonic() < deadline:
            time.sleep(0.05)
    assert not intake._retry_running
    assert Message.objects.filter(provider_sid="SMalone").exists()
    assert spooled() == []


def test_spooled_replies_are_handled_like_any_other(client, cadre, on_call, force, run_tasks):
    run_tasks(raise_incident, force)
    with database_down():
        post_sms(client, cadre["n1"].mobile, "Y 15", sid="SMlate")
    intake.take_in_spool()
    assert run_tasks(clock.tick, timezone.now() + timedelta(seconds=1))["replies"] == 1
    callout = Callout.objects.get(negotiator=cadre["n1"])
    assert (callout.state, callout.eta_minutes) == ("accepted", 15)


@pytest.mark.postgres("the connection pool")
def test_the_settings_pool_checks_connections_and_waits_briefly(db):
    pool = connection.pool
    assert pool._check is database.check_connection
    assert pool.timeout <= 5


@pytest.mark.postgres("the connection pool")
def test_it_survives_a_database_restart_without_a_failed_request(client, transactional_db):
    """Every backend killed (as by a restart): the next request gets a fresh connection."""
    assert post_sms(client, STRANGER, "Y", sid="SMbefore").status_code == 200
    connection.close()  # the end of a real request: back to the pool (the test client keeps it)
    db = connection.settings_dict
    with psycopg.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db["PASSWORD"] or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        autocommit=True,
    ) as admin:
        killed = admin.execute(
            "SELECT count(*) FROM pg_stat_activity, pg_terminate_backend(pid)"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert killed >= 2  # every connection the pool holds
    started = time.monotonic()
    assert post_sms(client, STRANGER, "Y", sid="SMafter").status_code == 200
    assert time.monotonic() - started < 1
    assert Message.objects.filter(provider_sid="SMafter").exists()  # stored, not spooled
    assert spooled() == []


def test_right_after_a_failure_it_spools_without_waiting_for_the_database(
    client, db, settings, monkeypatch
):
    monkeypatch.setattr(intake, "_database_down_until", 0.0)  # restored after the test
    settings.SPOOL_DIRECT_SECONDS = 60
    with database_down() as insert:
        post_sms(client, STRANGER, "Y", sid="SMfirst")
        assert insert.call_count == 1
        response = post_sms(client, STRANGER, "Y", sid="SMsecond")
        assert insert.call_count == 1  # not tried again: it was down a moment ago
    assert response.status_code == 200
    assert [m["sid"] for m in spooled()] == ["SMfirst", "SMsecond"]


def test_a_request_does_not_queue_behind_whoever_is_taking_the_spool_in(client, db):
    with database_down():
        post_sms(client, STRANGER, "Y", sid="SMheld")
    with spool.locked(True):  # the retry thread, waiting out the pool's timeout meanwhile
        started = time.monotonic()
        response = post_sms(client, STRANGER, "ETA 5", sid="SMbehind")
        waited = time.monotonic() - started
    assert response.status_code == 200
    assert waited < 1
    assert [m["sid"] for m in spooled()] == ["SMheld", "SMbehind"]  # behind, in order
    intake.take_in_spool()
    assert list(
        Message.objects.filter(direction="in").order_by("pk").values_list("provider_sid", flat=True)
    ) == ["SMheld", "SMbehind"]
