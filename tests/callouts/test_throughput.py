"""Replies keep pace with a storm: answers sent side by side, within one provider budget,
woken by the commit that makes the work, and never twice."""

import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection

from callouts import tasks
from callouts.engine import clock, inbound, steps
from callouts.messaging import budget, outbox, sending
from callouts.messaging.gateways import Gateway, Sent, TemporaryError
from callouts.models import Event, Message
from config import wakeup
from tests.factories import post_sms, raise_incident


class CountingGateway(Gateway):
    """A provider stand-in that takes `delay` per request and counts requests in flight."""

    def __init__(self, delay=0.05):
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.most = 0
        self.sent: list[tuple[str, str]] = []  # (to, body) in the order they were taken
        self.fail_first: dict[str, Exception] = {}
        self.hold: dict[str, threading.Event] = {}
        self.count = 0

    def send_sms(self, message):
        with self.lock:
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            if message.to_number in self.hold:
                self.hold[message.to_number].wait(10)
            time.sleep(self.delay)
            error = self.fail_first.pop(message.to_number, None)
            if error:
                raise error
            with self.lock:
                self.sent.append((message.to_number, message.body))
                self.count += 1
                return Sent(f"SM{self.count:032d}", "queued")
        finally:
            with self.lock:
                self.in_flight -= 1

    place_call = send_sms

    def to(self, person):
        return [body for to, body in self.sent if to == person.mobile]


@pytest.fixture
def gateway():
    counting = CountingGateway()
    with mock.patch("callouts.messaging.sending.get_gateway", return_value=counting):
        yield counting


def answers_to(person):
    return list(
        Message.objects.filter(purpose="reply", to_number=person.mobile)
        .order_by("pk")
        .values_list("status", "body")
    )


def inbound_ids():
    return list(
        Message.objects.filter(direction="in", status="received")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@pytest.mark.django_db(transaction=True)
def test_it_answers_a_batch_of_replies_together_each_once_in_order_per_phone(
    client, cadre, on_call, force, gateway
):
    raise_incident(force)  # its first step goes out through the stand-in
    gateway.sent.clear()
    gateway.most = 0
    for sid, (key, body) in enumerate(
        [("n1", "Y"), ("n2", "N"), ("n1", "ETA 10"), ("c1", "Y 5"), ("n3", "what")]
    ):
        assert post_sms(client, cadre[key], body, f"SMbatch{sid}").status_code == 200
    ids = inbound_ids()
    assert len(ids) == 5

    # The reply task, as the queue runs it (outside any transaction): one batch.
    assert inbound.handle_many(ids, pull=False) == 5

    assert inbound_ids() == []
    # Every answer went out together from the sending threads, each once, sid saved.
    assert gateway.most > 1
    assert len(gateway.sent) == 5
    first, second = answers_to(cadre["n1"])
    assert first[0] == second[0] == "sent"
    assert "you are going" in first[1] and "ETA 10 min noted" in second[1]
    assert gateway.to(cadre["n1"]) == [first[1], second[1]]  # in order
    for key in ("n2", "c1", "n3"):
        assert len(answers_to(cadre[key])) == 1 and len(gateway.to(cadre[key])) == 1
    sent_events = Event.objects.filter(kind="message_sent", data__purpose="reply").count()
    assert sent_events == 4  # n3's "what" is about their incident too; "Y 5" etc.
    assert Message.objects.filter(purpose="reply", provider_sid__isnull=True).count() == 0


@pytest.mark.django_db(transaction=True)
def test_it_hands_a_storm_of_replies_to_tasks_that_take_more_themselves(
    client, cadre, on_call, force, gateway, settings
):
    raise_incident(force)
    gateway.sent.clear()
    for n in range(30):
        post_sms(client, f"+4479000{n:05d}", "hello", f"SMstorm{n}")
    # The clock hands two chunks per worker to the queue, no more; the tasks take the rest.
    with (
        mock.patch("callouts.tasks.async_task") as queued,
        mock.patch.object(clock, "workers", return_value=1),
        mock.patch.object(inbound, "REPLY_CHUNK", 5),
        mock.patch.object(inbound, "STALE", timedelta(hours=1)),
    ):
        assert clock.dispatch_replies() == 10
        assert clock.dispatch_replies() == 0  # still in hand: nothing piles up in the queue
        first, second = [call.args[1] for call in queued.call_args_list]
        assert len(first) == len(second) == 5
        assert inbound.handle_many(first) == 25  # its own, then the 20 nobody had taken
        assert inbound.handle_many(second) == 5
    assert inbound_ids() == []
    assert len(gateway.sent) == 30 and len(set(gateway.sent)) == 30


@pytest.mark.django_db(transaction=True)
def test_it_never_doubles_an_answer_when_the_reply_task_runs_twice_or_is_killed(
    client, cadre, on_call, force, gateway, settings
):
    raise_incident(force)
    gateway.sent.clear()
    post_sms(client, cadre["n1"], "Y", "SMonce")
    post_sms(client, cadre["n2"], "Y", "SMkilled")
    [once, killed] = inbound_ids()

    # Killed halfway: the reply handled and its answer saved, then the worker died
    # before sending it.
    with outbox.collecting():
        assert inbound.handle(killed) == 1
    # django-q2 delivers the task again, and a second copy runs as well.
    assert inbound.handle_many([once, killed], pull=False) == 1
    assert inbound.handle_many([once, killed], pull=False) == 0
    assert len(gateway.to(cadre["n1"])) == 1
    assert gateway.to(cadre["n2"]) == []
    [(status, _)] = answers_to(cadre["n2"])
    assert status == "pending"
    # The dispatch grace passes: the clock sends the killed task's answer, once.
    settings.CALLOUTS_DISPATCH_GRACE = 0
    Message.objects.filter(purpose="reply").update(next_attempt_at=None)
    Message.objects.filter(purpose="reply", status="pending").update(
        next_attempt_at="2000-01-01T00:00:00Z"
    )
    clock.tick()
    clock.tick()
    assert len(gateway.to(cadre["n2"])) == 1
    assert len(gateway.to(cadre["n1"])) == 1
    assert [s for s, _ in answers_to(cadre["n2"])] == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_it_saves_an_answer_claimed_and_reconciles_it_if_the_task_dies_before_sending(
    client, cadre, on_call, force, gateway, settings
):
    raise_incident(force)
    gateway.sent.clear()
    post_sms(client, cadre["n2"], "Y", "SMclaimed")
    [killed] = inbound_ids()

    # The reply task's way: the answer is saved SENDING with the lease (no claim of its
    # own), and the worker dies before handing it to the provider.
    with outbox.collecting(sending.lease()) as collected:
        assert inbound.handle(killed) == 1
    [answer] = collected.claimed
    assert collected.ids == []
    assert answers_to(cadre["n2"])[0][0] == "sending"
    # Run again, the task finds the reply handled; the clock leaves it alone within the lease.
    assert inbound.handle_many([killed], pull=False) == 0
    clock.tick()
    assert gateway.to(cadre["n2"]) == []
    # The lease ends: the provider has nothing of ours to that number, so it is sent, once.
    Message.objects.filter(pk=answer.pk).update(next_attempt_at="2000-01-01T00:00:00Z")
    clock.tick()
    clock.tick()
    assert len(gateway.to(cadre["n2"])) == 1
    assert [s for s, _ in answers_to(cadre["n2"])] == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_it_offers_a_large_steps_later_messages_to_other_workers_and_sends_each_once(
    cadre, on_call, force, gateway
):
    with mock.patch("callouts.tasks.async_task") as queued:
        incident = raise_incident(force)  # its fire task is queued, not run
        with mock.patch.object(steps, "SHARE_ABOVE", 1):
            assert steps.fire_and_send(incident.pk, 0) == "fire"
    ids = list(
        Message.objects.filter(incident=incident, purpose="callout")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == 3
    # The second and third were offered to other workers, one a task; this task, finding
    # them unclaimed, sent them all itself. The helpers then find nothing left to send.
    offered = [call.args[1] for call in queued.call_args_list if call.args[0] == tasks.SEND]
    assert offered == [[ids[1]], [ids[2]]]
    assert sorted(to for to, _ in gateway.sent) == sorted(
        cadre[key].mobile for key in ("n1", "n2", "c1")
    )
    assert all(sending.send_many(chunk) == 0 for chunk in offered)
    assert len(gateway.sent) == 3


def pending_alerts(force, count):
    from tests.factories import make_negotiator

    people = [
        make_negotiator(force=force, callsign=f"BUDGET-{n:02d}", mobile=f"+4477009{n + 500:05d}")
        for n in range(count)
    ]
    return [
        outbox.create(
            channel="sms", purpose="alert", negotiator=p, to_number=p.mobile, body="Budget"
        ).pk
        for p in people
    ]


@pytest.mark.django_db(transaction=True)
def test_it_keeps_provider_requests_within_the_budget_and_uses_all_of_it(
    force, gateway, settings, tmp_path
):
    settings.CALLOUTS_PROVIDER_CONCURRENCY = 5
    settings.VAR_DIR = tmp_path
    ids = pending_alerts(force, 30)
    assert sending.send_many(ids) == 30
    assert gateway.most == 5
    assert (
        Message.objects.filter(pk__in=ids, status="sent", provider_sid__isnull=False).count() == 30
    )


def test_it_shares_the_budget_between_processes(tmp_path):
    """Two Budgets on one folder behave as two processes would: slots are flock'd files."""
    one, other = budget.Budget(2, tmp_path), budget.Budget(2, tmp_path)
    got = threading.Event()
    with one.slot(), one.slot():

        def take():
            with other.slot():
                got.set()

        waiter = threading.Thread(target=take)
        waiter.start()
        assert not got.wait(0.3)  # both slots held by the first "process"
    assert got.wait(5)
    waiter.join()


@pytest.mark.django_db(transaction=True)
def test_it_tries_a_throttled_request_again_at_once(force, gateway, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    [pk] = pending_alerts(force, 1)
    message = Message.objects.get(pk=pk)
    gateway.fail_first[message.to_number] = TemporaryError("HTTP 429: Too many requests", "20429")
    assert sending.send_many([pk]) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 1)


@pytest.mark.django_db(transaction=True)
def test_it_saves_each_sid_as_its_request_returns(force, gateway, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    quick, slow = pending_alerts(force, 2)
    slow_number = Message.objects.get(pk=slow).to_number
    gateway.hold[slow_number] = release = threading.Event()
    worker = threading.Thread(target=sending.send_many, args=([quick, slow],))
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if Message.objects.filter(pk=quick, status="sent").exists():
                break
            time.sleep(0.02)
        # The quick one is saved while the slow one is still at the provider.
        assert Message.objects.get(pk=quick).provider_sid
        assert Message.objects.get(pk=slow).status == "sending"
    finally:
        release.set()
        worker.join(10)
        connection.close()
    assert Message.objects.get(pk=slow).status == "sent"


def test_it_saves_a_batch_of_sids_but_never_over_a_status_callback_that_came_first(force):
    first, second = pending_alerts(force, 2)
    Message.objects.filter(pk__in=[first, second]).update(status="sending")
    # The provider's callback for the first arrived before its request returned.
    Message.objects.filter(pk=first).update(status="delivered", provider_sid="SMcallback")
    rows = list(Message.objects.filter(pk__in=[first, second]).order_by("pk"))

    saved = sending._record_sent(
        [(rows[0], Sent("SMreturned1", "queued")), (rows[1], Sent("SMreturned2", "queued"))]
    )

    assert saved == {second}
    assert list(
        Message.objects.filter(pk__in=[first, second])
        .order_by("pk")
        .values_list("status", "provider_sid")
    ) == [("delivered", "SMcallback"), ("sent", "SMreturned2")]


def test_it_polls_where_there_is_no_notify(db):
    """SQLite: no NOTIFY, so a Listener simply sleeps and the clock's tick does the work."""
    if connection.vendor == "postgresql":
        pytest.skip("this is SQLite's fallback")
    listener = wakeup.Listener(wakeup.REPLIES)
    assert not listener.enabled
    wakeup.notify(wakeup.REPLIES)  # nothing to do, and no error
    assert listener.wait(0.01) == set()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_wakes_the_clock_when_a_reply_is_taken_in(client, cadre):
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    listener = wakeup.Listener(wakeup.REPLIES)
    try:
        assert listener.wait(0.05) == set()
        post_sms(client, cadre["n1"], "Y", "SMwake")
        assert listener.wait(5) == {wakeup.REPLIES}
        # A duplicate MessageSid takes nothing in and wakes nobody.
        post_sms(client, cadre["n1"], "Y", "SMwake")
        assert listener.wait(0.2) == set()
    finally:
        listener.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_wakes_the_queue_when_a_task_is_queued_and_hands_tasks_out_in_order(db):
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    from config.broker import ListeningORM

    broker = ListeningORM(list_key="standby-test")
    listener = wakeup.Listener(wakeup.QUEUE)
    try:
        broker.enqueue("first")
        broker.enqueue("second")
        assert listener.wait(5) == {wakeup.QUEUE}
        taken = [payload for _ in range(2) for _, payload in broker.dequeue()]
        assert taken == ["first", "second"]
    finally:
        listener.close()
        if broker.listener:
            broker.listener.close()
        broker.purge_queue()
