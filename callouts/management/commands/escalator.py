"""`manage.py escalator`: the clock that runs config.jobs.CLOCK, each job on its interval."""

import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils.module_loading import import_string

from config import jobs, wakeup

log = logging.getLogger("callouts.escalator")


class Command(BaseCommand):
    help = "Run the clock's jobs (config/jobs.py): due steps, sends and replies every tick."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between ticks (default: the quickest job's interval, 0.25).",
        )
        parser.add_argument("--once", action="store_true", help="Every job once, then exit.")

    def handle(self, *args, interval=None, once=False, **options):
        stop = threading.Event()

        def on_signal(*_):
            # Not stop.set() here: the handler runs in the main thread, which may be inside
            # stop.wait() holding the event's lock, and set() would wait for it for ever (a
            # SIGTERM hung the clock this way). Another thread sets it once the wait lets go.
            threading.Thread(target=stop.set, name="escalator-stop", daemon=True).start()

        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, on_signal)
        tick = interval or min(job.every for job in jobs.CLOCK)
        # The quickest job follows --interval; the others keep their own.
        schedule = [(job, max(job.every, tick), import_string(job.run)) for job in jobs.CLOCK]
        on_wake = [(job, import_string(job.run)) for job in jobs.ON_WAKE]
        quickest = min(jobs.CLOCK, key=lambda job: job.every)
        last_run = {job.name: float("-inf") for job in jobs.CLOCK}
        # PostgreSQL: woken by the webhook's NOTIFY between ticks; SQLite: ticks only.
        listener = wakeup.Listener(wakeup.REPLIES)
        self.stdout.write(
            f"escalator: ticking every {tick}s"
            + (", and woken when a reply comes in" if listener.enabled else "")
        )
        woken = looked_again = False
        while not stop.is_set():
            started = time.monotonic()
            if not connection.in_atomic_block:
                close_old_connections()
            due = [
                (job, run)
                for job, every, run in schedule
                # Half a tick early is on time: the loop wakes every `tick` seconds.
                if started - last_run[job.name] >= every - tick / 2
            ]
            for job, _ in due:
                last_run[job.name] = started
            if woken and not due:
                due = on_wake
            for job, run in due:
                try:
                    run()
                except Exception:
                    # A database restart or a lock timeout must not stop the clock,
                    # nor one job the others.
                    log.exception("escalator tick failed (%s); trying again", job.name)
                    if not connection.in_atomic_block:
                        connection.close()
            if once:
                break
            if woken:
                # A storm of replies is many NOTIFYs: one hand-over per coalesce() at most
                # (the reply tasks take the rest themselves).
                stop.wait(wakeup.coalesce())
                if not looked_again:
                    # And once more after it, NOTIFY or not: a web process sends at most one
                    # per coalesce() (config.wakeup), so a reply taken in just after the one
                    # that woke us may have sent none.
                    looked_again = True
                    continue
            looked_again = False
            remaining = tick - (time.monotonic() - last_run[quickest.name])
            woken = bool(listener.wait(max(0.0, min(remaining, tick)), stop))
        listener.close()
        if not connection.in_atomic_block:
            connection.close()
        self.stdout.write("escalator: stopped")
