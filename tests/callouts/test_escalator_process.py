"""The escalator as a real process: it ticks on through database errors, stops on SIGTERM."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


class Escalator:
    """`manage.py escalator` as a process, its output read as it comes, so a test waits for what
    the clock says rather than for a guess at how long Django takes to start."""

    def __init__(self, env, interval):
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "escalator", "--interval", str(interval)],
            cwd=ROOT,
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out, self.err = [], []
        self.readers = [
            threading.Thread(target=self._read, args=(stream, lines), daemon=True)
            for stream, lines in ((self.process.stdout, self.out), (self.process.stderr, self.err))
        ]
        for reader in self.readers:
            reader.start()

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line)

    def wait_for(self, condition, timeout=60):
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.process.poll() is None, "".join(self.out + self.err)
            assert time.monotonic() < deadline, "".join(self.out + self.err)
            time.sleep(0.02)

    def said(self, text, stream="out"):
        return sum(text in line for line in getattr(self, stream))

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            for reader in self.readers:
                reader.join(timeout=5)
        return self.process.returncode


def test_it_survives_database_errors_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # An empty database: every tick fails with "no such table".
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "STANDBY_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
    }
    clock = Escalator(env, interval=0.1)
    try:
        clock.wait_for(lambda: clock.said("escalator: ticking"))
        clock.wait_for(lambda: clock.said("escalator tick failed", "err") >= 2)
    finally:
        returncode = clock.stop()
    assert returncode == 0
    assert clock.said("escalator: stopped") == 1


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_a_reply_that_sent_no_wake_up_is_handed_over_within_the_coalescing_window(tmp_path):
    """The webhook sends at most one NOTIFY per 50 ms a process; the clock, once woken, looks
    again 50 ms later, so the second of two quick replies is not left for its 5 s tick."""
    from django.db import connection
    from django.utils import timezone

    from callouts.engine import intake
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
    clock = Escalator(env, interval=5)
    try:
        clock.wait_for(lambda: clock.said("escalator: ticking"))
        time.sleep(0.5)  # listening, and its first tick (run straight after that line) is over
        intake.receive_sms("SMfirst" + "0" * 27, "+447700900111", "+447700900000", "Y")
        time.sleep(0.02)  # the clock has woken and handed the first over
        intake.receive_sms("SMsecond" + "0" * 26, "+447700900112", "+447700900000", "Y")
        deadline = time.monotonic() + 1.5  # well before the next tick, 5 s on
        handed = False
        while not handed and time.monotonic() < deadline:
            time.sleep(0.05)
            second = Message.objects.get(provider_sid__startswith="SMsecond")
            handed = second.next_attempt_at > timezone.now()  # claimed for a task
        assert handed, "the second reply waited for the tick"
    finally:
        clock.stop()
