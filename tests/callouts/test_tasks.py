from unittest import mock

from django.utils.module_loading import import_string

from callouts import tasks


def test_it_names_only_tasks_that_exist():
    for name in tasks.ALL:
        assert callable(import_string(name)), name


def test_it_queues_sends_only_when_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with mock.patch("callouts.tasks.async_task") as queued:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            tasks.enqueue_send([1, 2])
        assert not queued.called
        for callback in callbacks:
            callback()
    queued.assert_called_once_with(tasks.SEND, [1, 2], group="send")
