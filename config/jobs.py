"""Every background job of Standby: what runs, how often, and from where.

Three runners, and nothing starts background work anywhere else:
- the escalator clock (`manage.py escalator`, one process) calls the CLOCK jobs, each
  when its interval has passed, and the ON_WAKE jobs when a reply is taken in (on
  PostgreSQL, a NOTIFY wakes it between ticks); they only look at the database (and
  this machine's inbound spool) and queue tasks;
- the queue workers (`manage.py qcluster`, django-q2) run the tasks, which are named in
  each app's tasks.py (callouts.tasks, roster.tasks) and nowhere else; besides the
  clock's, tasks are queued when a transaction commits (a step to fire, messages to send,
  calls to cancel);
- each queue worker runs the ON_WORKER_START hooks once, when django-q2 spawns it.

django-q2's own scheduler is not used: it looks at its schedules only every 30 seconds,
too coarse for escalation steps, and one clock is easier to reason about than two.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Job:
    name: str
    run: str  # dotted path of a function taking no arguments
    every: float | None = None  # seconds, for the clock's jobs


CLOCK = (
    Job(
        "fire due escalation steps; queue due sends, lost sends and replies",
        "callouts.engine.clock.tick",
        every=0.25,
    ),
    Job(
        "beat; text coordinators if the queue has stopped draining",
        "callouts.engine.watch.watch_queue",
        every=5,
    ),
    Job("queue the delivery of due rota reminders", "callouts.tasks.deliver_reminders_now", 30),
    Job("queue filling the rota's reminder outbox", "roster.tasks.queue_reminders_now", 15 * 60),
    # Only this machine's spool (settings.SPOOL_DIR): a web server on another machine
    # takes in its own (callouts.engine.intake).
    Job(
        "take in inbound SMS spooled on this machine while the database was down",
        "callouts.engine.intake.take_in_spool",
        every=1,
    ),
    Job("delete cadre CSV uploads never confirmed", "cadre.tasks.forget_stale_uploads_now", 3600),
    Job(
        "delete login-throttle counters whose window has ended",
        "cadre.throttle.forget_expired",
        3600,
    ),
)

# Run by the clock as soon as the webhook takes a reply in (a PostgreSQL NOTIFY on
# config.wakeup.REPLIES), between its ticks; on SQLite there is no wake-up and the
# tick (above) does the same every 0.25 s.
ON_WAKE = (
    Job(
        "hand replies just taken in to the queue",
        "callouts.engine.clock.dispatch_replies",
    ),
)

ON_WORKER_START = (
    Job(
        "start the sending threads and their provider clients",
        "callouts.messaging.sending.warm_up",
    ),
    Job(
        "watch the escalator clock's beat; text coordinators if it stops",
        "callouts.engine.watch.start_watching_escalator",
    ),
)


def _run_worker_start(**_):
    from django.utils.module_loading import import_string

    for job in ON_WORKER_START:
        import_string(job.run)()


WORKER_START_UID = "standby-worker-start"


def connect_worker_start():
    """Have django-q2 run ON_WORKER_START in each queue worker it spawns."""
    from django_q.signals import post_spawn

    post_spawn.connect(_run_worker_start, dispatch_uid=WORKER_START_UID)
