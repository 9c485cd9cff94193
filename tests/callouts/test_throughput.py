"""Replies keep pace with a storm: answers sent side by side, within one provider budget,
woken by the commit that makes the work, and never twice."""

import contextlib
import threading
import time
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from callouts import tasks
from callouts.engine import clock, inbound, steps
from callouts.engine.policy import create_default_policy
from callouts.messaging import budget, outbox, sending
from callouts.messaging.gateways import Gateway, Sent, TemporaryError
from callouts.models import Event, Message
from config import wakeup
from tests.factories import make_force, make_negotiator, post_sms, put_on, raise_incident


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
    settings.CALLOUTS_REPLY_CHUNK = 5
    settings.CALLOUTS_REPLY_TAKEOVER_MS = 3_600_000
    with (
        mock.patch("callouts.tasks.async_task") as queued,
        mock.patch.object(clock, "workers", return_value=1),
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
def test_it_queues_no_reply_task_while_every_worker_has_one(client, cadre, on_call, force, gateway):
    from django.utils import timezone
    from django_q.conf import Conf
    from django_q.models import OrmQ

    raise_incident(force)
    gateway.sent.clear()
    for n in range(3):
        post_sms(client, f"+4479000{n:05d}", "hello", f"SMbusy{n}")
    # Two workers, each with a task: one waiting, one taken (locked) and running.
    now = timezone.now()
    OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="waiting", lock=now)
    OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="taken", lock=now + timedelta(seconds=90))
    with (
        mock.patch("callouts.tasks.async_task") as queued,
        mock.patch.object(clock, "workers", return_value=2),
    ):
        assert clock.dispatch_replies() == 0
        assert not queued.called
        # The replies wait unclaimed: a running reply task takes them at once.
        assert len(inbound.claim_replies(timezone.now(), 10, stale=True)) == 3
        OrmQ.objects.filter(payload="taken").delete()  # that task is done
        Message.objects.filter(direction="in").update(next_attempt_at=now)
        assert clock.dispatch_replies() == 3
        assert queued.called


@pytest.mark.django_db(transaction=True)
def test_it_hands_out_replies_that_wait_behind_a_killed_clusters_tasks(
    client, cadre, on_call, force, gateway
):
    from django_q.conf import Conf
    from django_q.models import OrmQ

    raise_incident(force)
    gateway.sent.clear()
    post_sms(client, cadre["n1"], "Y", "SMorphan")
    # A cluster SIGKILLed with two tasks taken: the broker keeps them locked until its retry.
    now = timezone.now()
    for _ in range(2):
        OrmQ.objects.create(key=Conf.CLUSTER_NAME, payload="dead", lock=now + timedelta(seconds=90))
    with mock.patch.object(clock, "workers", return_value=2):
        assert clock.dispatch_replies(now) == 0  # just in: a running task may take it
        later = now + clock.REPLIES_WAIT_AT_MOST + timedelta(seconds=1)
        assert clock.dispatch_replies(later) == 1  # nobody did: it goes to the queue anyway
    assert inbound_ids() == []
    [answer] = gateway.to(cadre["n1"])
    assert "you are going as" in answer


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
    cadre, on_call, force, gateway, settings
):
    settings.CALLOUTS_SHARE_STEP_ABOVE = 1
    settings.CALLOUTS_CLAIM_CHUNK = 1
    with mock.patch("callouts.tasks.async_task") as queued:
        incident = raise_incident(force)  # its fire task is queued, not run
        assert steps.fire_and_send(incident.pk, 0) == "fire"
    ids = list(
        Message.objects.filter(incident=incident, purpose="callout")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert len(ids) == 3
    # The first was made claimed for this task; the second and third were offered to
    # other workers, one a task; this task, finding them unclaimed, sent them all itself.
    # The helpers then find nothing left to send.
    offered = [call.args[1] for call in queued.call_args_list if call.args[0] == tasks.SEND]
    assert offered == [[ids[1]], [ids[2]]]
    assert sorted(to for to, _ in gateway.sent) == sorted(
        cadre[key].mobile for key in ("n1", "n2", "c1")
    )
    assert all(sending.send_many(chunk) == 0 for chunk in offered)
    assert len(gateway.sent) == 3


@pytest.mark.django_db(transaction=True)
def test_it_sends_a_steps_first_messages_claimed_as_they_were_made_and_each_once(
    cadre, on_call, force, gateway
):
    with mock.patch("callouts.tasks.async_task"):
        incident = raise_incident(force)  # its fire task is queued, not run
    with mock.patch.object(sending, "claim", wraps=sending.claim) as claim:
        assert steps.fire_and_send(incident.pk, 0) == "fire"
        assert steps.fire_and_send(incident.pk, 0) is None  # the task run twice
    assert [call.args[0] for call in claim.call_args_list] == []  # no claim of their own
    step = Message.objects.filter(incident=incident, purpose="callout")
    assert sorted(to for to, _ in gateway.sent) == sorted(m.to_number for m in step)
    assert {(m.status, m.attempts, bool(m.provider_sid)) for m in step} == {("sent", 1, True)}
    sent_events = Event.objects.filter(incident=incident, kind="message_sent").count()
    assert sent_events == step.count() == 3


@pytest.mark.django_db(transaction=True)
def test_it_claims_the_rest_of_a_step_when_its_first_messages_fill_the_budget_once_one_is_back(
    cadre, on_call, force, gateway, settings, tmp_path
):
    settings.CALLOUTS_PROVIDER_CONCURRENCY = 1
    settings.VAR_DIR = tmp_path
    settings.CALLOUTS_SHARE_STEP_ABOVE = 1
    settings.CALLOUTS_CLAIM_CHUNK = 1
    with mock.patch("callouts.tasks.async_task") as queued:
        incident = raise_incident(force)
        step = Message.objects.filter(incident=incident, purpose="callout").order_by("pk")
        seen_when_claiming = []
        real_claim = sending.claim

        def claim(ids, now):
            seen_when_claiming.append(list(step.values_list("status", flat=True)))
            return real_claim(ids, now)

        with mock.patch.object(sending, "claim", claim):
            assert steps.fire_and_send(incident.pk, 0) == "fire"
    # The first filled the budget: the rest were offered to other workers at once, and
    # claimed here only once the first was back and saved.
    assert [c.args[1] for c in queued.call_args_list if c.args[0] == tasks.SEND] == [
        [m.pk] for m in step[1:]
    ]
    assert seen_when_claiming[0] == ["sent", "pending", "pending"]
    assert [m.status for m in step] == ["sent"] * 3 and len(gateway.sent) == 3


@pytest.mark.django_db(transaction=True)
def test_it_reconciles_a_steps_claimed_messages_if_the_task_dies_before_sending(
    cadre, on_call, force, gateway
):
    with mock.patch("callouts.tasks.async_task"):
        incident = raise_incident(force)
    # The fire task commits the step, its messages claimed for it, and dies.
    fired = steps.fire(incident.pk, 0, claim=sending.claim_chunk())
    assert len(fired.claimed) == 3
    step = Message.objects.filter(incident=incident, purpose="callout")
    assert {m.status for m in step} == {"sending"}
    clock.tick()  # within the lease: nobody else sends them
    assert gateway.sent == []
    # The lease ends: the provider has none of them, so each is sent, once.
    step.update(next_attempt_at="2000-01-01T00:00:00Z")
    clock.tick()
    clock.tick()
    assert sorted(to for to, _ in gateway.sent) == sorted(m.to_number for m in step)
    assert {m.status for m in step} == {"sent"}


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


def test_it_has_one_thread_look_for_another_processs_slots_while_the_rest_sleep(tmp_path):
    one, other = budget.Budget(20, tmp_path), budget.Budget(20, tmp_path)
    refused = 0
    flock = budget.fcntl.flock

    def counted(fd, operation):
        nonlocal refused
        try:
            return flock(fd, operation)
        except BlockingIOError:
            refused += 1
            raise

    done = []
    with mock.patch.object(budget.fcntl, "flock", counted):
        with contextlib.ExitStack() as held:
            for _ in range(20):  # the other "process" holds every slot
                held.enter_context(one.slot())

            together = threading.Barrier(20, timeout=5)

            def take(n):
                with other.slot():
                    done.append(n)
                    # Held until all twenty have one: slots freed elsewhere are found by
                    # the waiters themselves, not only when one of theirs comes back.
                    together.wait()

            waiters = [threading.Thread(target=take, args=(n,)) for n in range(20)]
            for waiter in waiters:
                waiter.start()
            time.sleep(0.5)
            # Each waiter looks once, then one thread looks for all, every 5 ms once it has
            # backed off: ~2,500 refusals, where each of the twenty polling made ~12,000
            # even looking only every 20 ms.
            assert done == [] and refused < 5_000
        for waiter in waiters:
            waiter.join(5)
    assert sorted(done) == list(range(20))  # every waiter got a slot once they were free
    assert not together.broken


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


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_it_wakes_the_clock_when_a_reply_is_taken_in(client, cadre):
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


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_a_storm_of_replies_sends_one_wake_up_per_coalescing_window(client, cadre, settings):
    settings.CALLOUTS_WAKE_COALESCE_MS = 500
    listener = wakeup.Listener(wakeup.REPLIES)
    woken = []
    try:
        for n in range(5):
            post_sms(client, f"+4479000{n:05d}", "hello", f"SMcoalesce{n}")
            woken.append(listener.wait(0.05))
        assert woken == [{wakeup.REPLIES}, set(), set(), set(), set()]
        time.sleep(0.5)  # the clock has looked again by now; the next reply wakes it anew
        post_sms(client, cadre["n1"], "Y", "SMcoalesce5")
        assert listener.wait(5) == {wakeup.REPLIES}
    finally:
        listener.close()


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_it_wakes_the_queue_when_a_task_is_queued_and_hands_tasks_out_in_order(db):
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


def statements_to_fire_the_first_step(force, people: int) -> list[str]:
    create_default_policy(force)
    now = timezone.now()
    for _ in range(people):
        put_on(make_negotiator(force), start=now - timedelta(hours=1), end=now + timedelta(hours=9))
    with mock.patch("callouts.tasks.async_task"):
        incident = raise_incident(force)
    with CaptureQueriesContext(connection) as done:
        fired = steps.fire(incident.pk, 0, claim=sending.claim_chunk())
    assert len(fired.message_ids) == people
    return [q["sql"] for q in done.captured_queries]


@pytest.mark.django_db
def test_it_fires_a_step_in_as_many_statements_for_thirty_people_as_for_three():
    few = statements_to_fire_the_first_step(make_force("Few", "FEW"), 3)
    many = statements_to_fire_the_first_step(make_force("Many", "MANY"), 30)
    assert len(few) == len(many)
    # Nobody asked yet, so nothing asked is read back: of callouts, only who is deployed
    # on another incident.
    reads = [sql for sql in many if sql.startswith("SELECT") and "callouts_callout" in sql]
    assert len(reads) == 1 and "callouts_incident" in reads[0]
    assert not [sql for sql in many if sql.startswith("SELECT") and "callouts_message" in sql]
