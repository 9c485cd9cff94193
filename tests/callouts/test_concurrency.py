"""Real concurrency on PostgreSQL: simultaneous acceptances, and a worker killed mid-step."""

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client
from django.utils import timezone
from django_q.tasks import async_task

from bench.twilio_standin import StandIn
from callouts import tasks
from callouts.engine import inbound
from callouts.engine.policy import create_default_policy
from callouts.models import Callout, Incident, Message
from tests.factories import make_force, make_negotiator, post_signed, put_on, raise_incident

pytestmark = pytest.mark.postgres("row locks (select_for_update)")
ROOT = Path(__file__).resolve().parents[2]


def on_call_cadre(size, coordinators=0):
    force = make_force("Busy Constabulary", "BUSY")
    create_default_policy(force)
    people = []
    now = timezone.now()
    for i in range(size):
        roles = ("coordinator",) if i < coordinators else ("negotiator",)
        person = make_negotiator(force=force, callsign=f"P-{i:02d}", roles=roles)
        put_on(person, roles[0], start=now - timedelta(hours=1), end=now + timedelta(hours=12))
        people.append(person)
    return force, people


def test_it_fills_exactly_once_under_30_simultaneous_acceptances(transactional_db):
    force, people = on_call_cadre(30, coordinators=5)
    incident = raise_incident(force, kind="hostage", location="Dover")
    assert Callout.objects.filter(incident=incident).count() == 30
    for i, person in enumerate(people):
        response = post_signed(
            Client(),
            "/twilio/sms/",
            {"From": person.mobile, "To": "+447700900000", "Body": "Y 15", "MessageSid": f"SMc{i}"},
        )
        assert response.status_code == 200
    received = list(Message.objects.filter(direction="in").values_list("pk", flat=True))
    assert len(received) == 30
    start = threading.Barrier(30)

    def handle(pk):
        # 30 workers record 30 acceptances at the same moment.
        try:
            start.wait()
            inbound.handle(pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=handle, args=(pk,)) for pk in received]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    incident.refresh_from_db()
    assert incident.status == Incident.Status.FILLED
    accepted = Callout.objects.filter(incident=incident, state="accepted")
    assert sorted(accepted.values_list("role", flat=True)) == [
        "coordinator",
        "negotiator",
        "negotiator",
    ]
    answers = {
        m.to_number: m.body for m in Message.objects.filter(incident=incident, purpose="reply")
    }
    assert len(answers) == 30
    assert sum("you are going" in a for a in answers.values()) == 3
    assert sum("not needed any more" in a for a in answers.values()) == 27
    late = Callout.objects.filter(incident=incident, late=True)
    assert late.count() == 27
    # Stand-downs went to those who had not answered when it filled (one each, never twice).
    stand_downs = Message.objects.filter(incident=incident, purpose="stand_down")
    assert stand_downs.values("callout").distinct().count() == stand_downs.count()
    assert not stand_downs.filter(callout__state="accepted").exists()
    assert Message.objects.filter(incident=incident, purpose="alert").count() == 1


def _subprocess_env(standin, **extra):
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "Q_SYNC": "false",
        "Q_WORKERS": "1",
        "SMS_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "test-token",
        "TWILIO_FROM_NUMBER": "+447700900000",
        "TWILIO_API_BASE": standin.base_url,
        "CALLOUTS_PROVIDER_CONCURRENCY": "4",
        "CALLOUTS_SENDING_LEASE": "3",
        "CALLOUTS_DISPATCH_GRACE": "2",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def _start(args, env, log):
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(process, sig=signal.SIGTERM):
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        return
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)


def _wait_for(predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_a_worker_killed_mid_step_loses_nothing_and_doubles_nothing(transactional_db, tmp_path):
    log = (tmp_path / "processes.log").open("w")
    force, people = on_call_cadre(20)
    with mock.patch("callouts.tasks.enqueue_step"):
        incident = raise_incident(
            force, kind="barricade", location="Dover", needs={"negotiator": 20}
        )
    with StandIn(delay=0.5) as standin:
        env = _subprocess_env(standin)
        async_task(tasks.FIRE_STEP, incident.pk, 0, sync=False)
        worker = _start(["qcluster"], env, log)
        processes = [worker]
        try:
            # Kill the worker (all its processes, no goodbye) with some sends done,
            # some in flight at the provider, and some not started.
            sent = _wait_for(lambda: len(standin.messages) >= 6, 60)
            assert sent, (tmp_path / "processes.log").read_text()[-3000:]
            _stop(worker, signal.SIGKILL)
            in_db = Message.objects.filter(incident=incident, purpose="callout")
            assert in_db.count() == 20
            assert in_db.exclude(status__in=["sent", "delivered"]).exists()

            # A fresh worker and the escalator clock carry on from the database.
            processes += [
                _start(["qcluster"], env, log),
                _start(["escalator", "--interval", "0.2"], env, log),
            ]
            done = _wait_for(lambda: in_db.filter(status="sent").count() == 20, 60)
        finally:
            for process in processes:
                _stop(process)
        log.close()
        Path("/tmp/callouts-kill.log").write_text((tmp_path / "processes.log").read_text())
        assert done, (list(in_db.values_list("status", flat=True)), len(standin.messages))
        numbers = [m["to"] for m in standin.messages]
        assert sorted(numbers) == sorted(p.mobile for p in people), "lost or doubled"
        by_number = {m["to"]: m["sid"] for m in standin.messages}
        for message in in_db:
            assert message.provider_sid == by_number[message.to_number]
