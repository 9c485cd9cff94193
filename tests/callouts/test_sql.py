"""Each statement of callouts.sql gives what the ORM gives on the same data."""

from django.db import transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from callouts import locking, sql
from callouts.messaging import outbox
from callouts.models import Message
from tests.factories import make_negotiator

SAVED = ("status", "provider_sid", "sent_at", "status_at", "next_attempt_at")


def messages(force, label, count=4):
    """`count` alerts being sent; the second already moved on by its status callback."""
    ids = []
    for n in range(count):
        person = make_negotiator(
            force=force, callsign=f"{label}-{n}", mobile=f"+44770090{label[-1]}{n:03d}"
        )
        message = outbox.create(
            channel="sms", purpose="alert", negotiator=person, to_number=person.mobile, body="x"
        )
        ids.append(message.pk)
    Message.objects.filter(pk__in=ids).update(status="sending", next_attempt_at=None)
    Message.objects.filter(pk=ids[1]).update(status="delivered", provider_sid=f"SMcb{label}")
    return ids


def record_sent_by_the_orm(sent, now) -> set[int]:
    """The same change as sql.RECORD_SENT, as the ORM writes it."""
    with transaction.atomic():
        still = set(locking.in_order(Message.objects.filter(pk__in=[pk for pk, _, _ in sent])))
        still &= set(
            Message.objects.filter(pk__in=still, status="sending").values_list("pk", flat=True)
        )
        chosen = [row for row in sent if row[0] in still]
        if chosen:
            Message.objects.filter(pk__in=still).update(
                status=Case(*(When(pk=pk, then=Value(status)) for pk, status, _ in chosen)),
                provider_sid=Case(*(When(pk=pk, then=Value(sid)) for pk, _, sid in chosen)),
                sent_at=now,
                status_at=now,
                next_attempt_at=None,
            )
    return still


def saved(ids, label):
    """Each message's saved columns, its set's label taken out of the sids."""
    return [
        (status, sid.replace(label, ""), *rest)
        for status, sid, *rest in (
            Message.objects.filter(pk=pk).values_list(*SAVED).get() for pk in ids
        )
    ]


def test_it_records_sent_messages_as_the_orm_would(force):
    now = timezone.now()
    statuses = ["sent", "sent", "ringing", "sent"]
    by_sql, by_orm = messages(force, "SQL1"), messages(force, "ORM2")

    def sent(ids, label):
        return [
            (pk, status, f"SM{label}{i}")
            for i, (pk, status) in enumerate(zip(ids, statuses, strict=True))
        ]

    changed_by_sql = sql.record_sent(sent(by_sql, "SQL1"), now, "sending")
    changed_by_orm = record_sent_by_the_orm(sent(by_orm, "ORM2"), now)

    assert changed_by_sql == {by_sql[i] for i in (0, 2, 3)}
    assert changed_by_orm == {by_orm[i] for i in (0, 2, 3)}
    assert saved(by_sql, "SQL1") == saved(by_orm, "ORM2")
    assert saved(by_sql, "SQL1")[1][:2] == ("delivered", "SMcb")  # the callback's, kept
    assert saved(by_sql, "SQL1")[2][:2] == ("ringing", "SM2")


def test_it_records_nothing_for_no_messages(db):
    assert sql.record_sent([], timezone.now(), "sending") == set()
