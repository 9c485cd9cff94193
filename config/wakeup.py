"""Wake-ups: work committed in one process wakes the process that does it, at once.

On PostgreSQL, `notify(channel)` sends a NOTIFY (delivered when its transaction
commits, never for one rolled back), and a `Listener` sleeps until one arrives or
its timeout ends. Two channels:
- REPLIES: an SMS reply was taken in; the escalator clock hands replies to the queue
  (config.jobs.ON_WAKE) instead of waiting for its next tick;
- QUEUE: a task was queued on the database broker (config.broker); the cluster's
  pusher takes it at once instead of after its poll.
Wake-ups only save waiting: whatever sleeps still looks on its own interval, so a
lost notification (a restart, a dropped connection) costs one interval, never work.

SQLite has no NOTIFY: `notify` does nothing and a Listener simply sleeps, so the
zero-set-up default keeps polling (the clock's tick, the queue's poll).
"""

import contextlib
import logging
import threading
import time

from django.db import connections

log = logging.getLogger(__name__)

REPLIES = "standby_replies"
QUEUE = "standby_queue"


def available(alias: str = "default") -> bool:
    return connections[alias].vendor == "postgresql"


def coalesce() -> float:
    """Seconds: the escalator clock, once woken by REPLIES, hands replies over again this
    long after whether or not another NOTIFY came (callouts/management/commands/escalator.py),
    so a web process need send REPLIES no more often than this."""
    from django.conf import settings

    return settings.CALLOUTS_WAKE_COALESCE_MS / 1000


_last_sent: dict[str, float] = {}


def notify(channel: str, alias: str = "default", at_most_every: float = 0.0) -> None:
    """Wake whoever listens on `channel` once the current transaction commits (now, outside one).

    `at_most_every`: seconds; this process sends none if it sent one that recently (the
    listener looks again that long after it wakes). Under a storm of replies the webhook's
    NOTIFY was one of its three round trips to the database.
    """
    db = connections[alias]
    if db.vendor != "postgresql":
        return
    if at_most_every:
        now = time.monotonic()
        if now - _last_sent.get(channel, float("-inf")) < at_most_every:
            return
        _last_sent[channel] = now
    with db.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, '')", [channel])


class Listener:
    """A connection of its own that LISTENs on `channels`; `wait` returns early on a NOTIFY.

    LISTEN is set up before the caller first looks for work, so a notification sent
    between a look and the next wait is kept by the connection and ends that wait at
    once: nothing is missed. On a dropped connection it reconnects on the next wait.
    """

    def __init__(self, *channels: str, alias: str = "default"):
        self.channels = channels
        self.alias = alias
        self.conn = None
        self.enabled = available(alias)
        if self.enabled:
            self._connect()

    def _connect(self):
        import psycopg

        settings = connections[self.alias].settings_dict
        params = {
            "dbname": settings.get("NAME") or "postgres",
            "user": settings.get("USER") or None,
            "password": settings.get("PASSWORD") or None,
            "host": settings.get("HOST") or None,
            "port": settings.get("PORT") or None,
            "connect_timeout": 3,
        }
        try:
            self.conn = psycopg.connect(
                **{k: v for k, v in params.items() if v is not None}, autocommit=True
            )
            for channel in self.channels:
                self.conn.execute(f'LISTEN "{channel}"')
        except psycopg.Error as error:
            log.warning("cannot listen for wake-ups (%s): polling meanwhile", error)
            self.close()

    def wait(self, timeout: float, stop: threading.Event | None = None) -> set[str]:
        """Sleep up to `timeout` seconds; the channels notified meanwhile (empty: timed out)."""
        if timeout <= 0:
            timeout = 0.0
        if not self.enabled:
            if stop is not None:
                stop.wait(timeout)
            else:
                time.sleep(timeout)
            return set()
        if self.conn is None:
            self._connect()
            if self.conn is None:
                time.sleep(timeout)
                return set()
        import psycopg

        woken = set()
        try:
            for note in self.conn.notifies(timeout=timeout, stop_after=1):
                woken.add(note.channel)
            if woken:
                # Everything else already waiting: one wake-up for a burst.
                for note in self.conn.notifies(timeout=0, stop_after=1000):
                    woken.add(note.channel)
        except psycopg.Error as error:
            log.warning("wake-up connection lost (%s): reconnecting", error)
            self.close()
        return woken

    def close(self):
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None


__all__ = ["QUEUE", "REPLIES", "Listener", "available", "notify"]
