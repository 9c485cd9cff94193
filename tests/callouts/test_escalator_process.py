"""The escalator as a real process: it ticks on through database errors, stops on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def escalator(env, interval):
    return subprocess.Popen(
        [sys.executable, "manage.py", "escalator", "--interval", str(interval)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_it_survives_database_errors_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # An empty database: every tick fails with "no such table".
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "STANDBY_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
    }
    process = escalator(env, interval=0.1)
    try:
        time.sleep(3)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "escalator: stopped" in out
    assert err.count("escalator tick failed") >= 2


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_a_reply_that_sent_no_wake_up_is_handed_over_within_the_coalescing_window(tmp_path):
    """The webhook sends at most one NOTIFY per 50 ms a process; the clock, once woken, looks
    again 50 ms later, so the second of two quick replies is not left for its 5 s tick."""
    from django.db import connection
    from django.utils import timezone

    from callouts.engine import inbound
    from callouts.models import Message

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url,
        "STANDBY_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
        "Q_SYNC": "false",
    }
    process = escalator(env, interval=5)
    try:
        time.sleep(3)  # started and listening; its first tick is over
        inbound.receive_sms("SMfirst" + "0" * 27, "+447700900111", "+447700900000", "Y")
        time.sleep(0.02)  # the clock has woken and handed the first over
        inbound.receive_sms("SMsecond" + "0" * 26, "+447700900112", "+447700900000", "Y")
        deadline = time.monotonic() + 1.5  # well before the next tick, 5 s on
        handed = False
        while not handed and time.monotonic() < deadline:
            time.sleep(0.05)
            second = Message.objects.get(provider_sid__startswith="SMsecond")
            handed = second.next_attempt_at > timezone.now()  # claimed for a task
        assert handed, "the second reply waited for the tick"
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)
