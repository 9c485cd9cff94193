"""Twilio's webhooks take a short way through the server (config/webhook_middleware.py, one
prepared insert per SMS) and answer exactly as they did the long way."""

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import get_resolver
from django.utils import timezone

from callouts.engine import intake
from callouts.messaging import spool
from callouts.models import Message
from config import wakeup
from tests.factories import post_sms

STRANGER = "+447700900111"
SECURITY_HEADERS = [
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
    "Content-Security-Policy",
]


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "forged"])
def test_it_answers_a_webhook_with_the_security_headers_a_page_gets(client, db, signed):
    page = client.get("/login/")
    if signed:
        response = post_sms(client, STRANGER, "Y", sid="SMheaders")
    else:
        response = client.post("/twilio/sms/", {"From": STRANGER}, HTTP_X_TWILIO_SIGNATURE="x")
    assert response.status_code == (200 if signed else 403)
    for header in SECURITY_HEADERS:
        assert response[header] == page[header], header
    assert response["Content-Length"] == str(len(response.content))
    assert response["X-Request-ID"]
    assert "Set-Cookie" not in response


def test_it_keeps_the_proxys_request_id_on_a_webhook(client, db):
    response = client.post("/twilio/sms/", {}, HTTP_X_REQUEST_ID="twilio-req-1")
    assert (response.status_code, response["X-Request-ID"]) == (403, "twilio-req-1")
    assert not Message.objects.exists()  # unsigned: refused, nothing taken in


def test_it_sends_a_webhook_called_over_plain_http_to_https(db, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = Client().post("/twilio/sms/", {"From": STRANGER})
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert not Message.objects.exists()


def test_it_answers_a_wrong_webhook_address_or_method_as_before(client, db):
    assert client.get("/twilio/sms/").status_code == 405
    assert client.post("/twilio/nothing-here/", {}).status_code == 404
    # Without the slash the SMS webhook is there too (a POST cannot be redirected), and
    # other addresses are redirected to theirs with it, as every other page.
    assert client.get("/twilio/sms").status_code == 405
    response = client.get("/twilio/status")
    assert (response.status_code, response["Location"]) == (301, "/twilio/status/")


def test_it_still_sends_pages_the_long_way(client, db):
    """Only Twilio's addresses are short-cut: a page still wants a login."""
    response = client.get("/incidents/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_it_runs_webhooks_through_middleware_of_the_full_list_in_its_order():
    full = settings.MIDDLEWARE
    shortcut = full.index("config.webhook_middleware.WebhookShortcut")
    after = full[shortcut + 1 :]
    positions = [after.index(path) for path in settings.WEBHOOK_MIDDLEWARE]
    assert positions == sorted(positions)
    # Before it, only what every request needs, webhooks too.
    assert full[:shortcut] == [
        "config.logs.request_id_middleware",
        "config.input_check.refuse_unsafe_input",
    ]


def test_it_checks_twilios_signature_on_every_view_of_the_short_way(client, db):
    """No session or CSRF check runs there: the signature is each view's only guard."""
    [twilio] = [p for p in get_resolver().url_patterns if str(p.pattern) == "twilio/"]
    assert settings.WEBHOOK_PREFIX == "/twilio/"
    for pattern in twilio.url_patterns:
        path = "/twilio/" + str(pattern.pattern).replace("<int:pk>", "1")
        response = client.post(path, {"From": STRANGER}, HTTP_X_TWILIO_SIGNATURE="forged")
        assert response.status_code == 403, path
    assert not Message.objects.exists()


def test_it_stores_an_sms_with_every_column_the_orm_would_give_it(client, db):
    post_sms(client, STRANGER, "Y 15", sid="SMcolumns")
    stored = Message.objects.get(provider_sid="SMcolumns")
    expected = Message(
        direction="in",
        channel="sms",
        purpose="inbound",
        to_number="+447700900000",
        from_number=STRANGER,
        body="Y 15",
        provider_sid="SMcolumns",
        status="received",
    )
    times = {"created_at", "status_at", "next_attempt_at"}
    for field in Message._meta.concrete_fields:
        if not field.primary_key and field.attname not in times:
            assert getattr(stored, field.attname) == getattr(expected, field.attname), field.name
    assert stored.status_at == stored.next_attempt_at <= stored.created_at <= timezone.now()


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_it_takes_an_sms_in_with_one_insert_then_wakes_the_clock(client, cadre):
    """The NOTIFY is a transaction of its own: PostgreSQL commits NOTIFYs one at a time,
    and the insert's WAL flush must not be inside that queue."""
    listener = wakeup.Listener(wakeup.REPLIES)
    try:
        with CaptureQueriesContext(connection) as queries:
            response = post_sms(client, cadre["n1"], "Y", "SMone")
        assert response.status_code == 200
        insert, notify = (query["sql"] for query in queries)
        assert insert.startswith("INSERT") and "pg_notify" not in insert
        assert notify.startswith("SELECT pg_notify")
        assert listener.wait(5) == {wakeup.REPLIES}
        assert Message.objects.filter(provider_sid="SMone", status="received").count() == 1
    finally:
        listener.close()


@pytest.mark.postgres("LISTEN/NOTIFY")
@pytest.mark.django_db(transaction=True)
def test_it_wakes_the_clock_for_a_spooled_sms_taken_in_and_keeps_its_time(db):
    arrived = timezone.now() - timezone.timedelta(minutes=3)
    spool.keep("SMspooled", STRANGER, "+447700900000", "Y", arrived)
    spool.keep("SMspooled", STRANGER, "+447700900000", "Y", arrived)  # Twilio sent it twice
    listener = wakeup.Listener(wakeup.REPLIES)
    try:
        drained = intake.take_in_spool()
        assert (drained.taken, drained.duplicates) == (1, 1)
        assert listener.wait(5) == {wakeup.REPLIES}
        stored = Message.objects.get(provider_sid="SMspooled")
        assert (stored.created_at, stored.status_at) == (arrived, arrived)
    finally:
        listener.close()


@pytest.mark.django_db(transaction=True)
def test_it_takes_an_sms_in_inside_a_transaction_that_goes_on_after_a_duplicate(db):
    with transaction.atomic():
        assert intake.receive_sms("SMtx", STRANGER, "+447700900000", "Y") is True
        assert intake.receive_sms("SMtx", STRANGER, "+447700900000", "Y") is False
        assert Message.objects.filter(provider_sid="SMtx").count() == 1
    assert Message.objects.filter(provider_sid="SMtx").count() == 1
