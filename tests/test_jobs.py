"""config/jobs.py is the one list of background jobs, and the escalator runs it."""

import threading
from unittest import mock

from django.core.management import call_command
from django.utils.module_loading import import_string

from config import jobs


def test_it_lists_only_jobs_that_exist():
    for job in (*jobs.CLOCK, *jobs.ON_WORKER_START):
        assert callable(import_string(job.run)), job.run
    assert all(job.every for job in jobs.CLOCK)


def test_the_escalator_runs_every_clock_job_once_with_once(db):
    ran = []
    patches = [
        mock.patch(job.run, side_effect=lambda name=job.name: ran.append(name))
        for job in jobs.CLOCK
    ]
    for patch in patches:
        patch.start()
    try:
        call_command("escalator", "--once")
    finally:
        for patch in patches:
            patch.stop()
    assert ran == [job.name for job in jobs.CLOCK]


def test_one_failing_job_does_not_stop_the_others(db):
    first, *others = jobs.CLOCK
    with (
        mock.patch(first.run, side_effect=RuntimeError("database gone")),
        mock.patch(others[0].run) as second,
    ):
        call_command("escalator", "--once")
    assert second.called


def test_a_task_run_in_the_caller_starts_no_worker_threads(db):
    # The sync queue (tests) "spawns" a worker per task: each used to leave a thread behind
    # that watched the escalator for as long as the process lived.
    from django_q.tasks import async_task

    before = threading.active_count()
    for _ in range(3):
        async_task("math.floor", 1.5)
    assert threading.active_count() == before


def test_it_runs_every_worker_start_job_when_django_q_spawns_a_worker():
    from django_q.signals import post_spawn

    ran = []
    patches = [
        mock.patch(job.run, side_effect=lambda name=job.name: ran.append(name))
        for job in jobs.ON_WORKER_START
    ]
    for patch in patches:
        patch.start()
    jobs.connect_worker_start()
    try:
        post_spawn.send(sender="test", proc_name="Worker-1")
    finally:
        post_spawn.disconnect(dispatch_uid=jobs.WORKER_START_UID)
        for patch in patches:
            patch.stop()
    assert ran == [job.name for job in jobs.ON_WORKER_START]
