"""`manage.py escalator`: the clock that fires escalation steps on time (see callouts/clock.py)."""

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from callouts.engine import clock

log = logging.getLogger("callouts.escalator")
REMINDER_EVERY = 30.0


class Command(BaseCommand):
    help = "Fire due steps, sends and replies, about every quarter second, until stopped."

    def add_arguments(self, parser):
        # A quarter second: it also hands negotiators' replies to the queue.
        parser.add_argument("--interval", type=float, default=0.25)
        parser.add_argument("--once", action="store_true", help="One tick, then exit.")

    def handle(self, *args, interval=0.25, once=False, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        last_reminders = 0.0
        self.stdout.write(f"escalator: ticking every {interval}s")
        while not stop.is_set():
            started = time.monotonic()
            try:
                if not connection.in_atomic_block:
                    close_old_connections()
                clock.tick(timezone.now())
                if started - last_reminders >= REMINDER_EVERY:
                    last_reminders = started
                    clock.remind()
            except Exception:
                # A database restart or a lock timeout must not stop the clock.
                log.exception("escalator tick failed; trying again")
                if not connection.in_atomic_block:
                    connection.close()
            if once:
                break
            stop.wait(max(0.0, interval - (time.monotonic() - started)))
        if not connection.in_atomic_block:
            connection.close()
        self.stdout.write("escalator: stopped")
