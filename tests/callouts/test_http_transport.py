"""The SDK's transport (gateways/http.py): what reaches the provider, and how failures read."""

import http.client
import socket
import ssl
import threading
import time

import pytest
import urllib3
from twilio.rest import Client

from bench.twilio_standin import StandIn
from callouts.messaging.gateways.http import PooledHttpClient, encode
from callouts.messaging.gateways.twilio import classify

ACCOUNT = "AC" + "0" * 32


def client_for(base_url, timeout=5.0):
    client = Client(ACCOUNT, "token", http_client=PooledHttpClient(timeout, 4, base_url))
    client.api.base_url = base_url
    return client


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_writes_forms_as_requests_does():
    assert encode({"To": "+44 1", "Event": ["ringing", "answered"], "Unset": None}) == (
        "To=%2B44+1&Event=ringing&Event=answered"
    )


def test_it_sends_the_sms_and_reads_back_the_sid():
    with StandIn(delay=0) as standin:
        created = client_for(standin.base_url).messages.create(
            to="+447700900001", from_="+447700900000", body="BEN-01 barricade. Reply Y or N"
        )
        assert created.sid == standin.messages[0]["sid"]
        assert standin.messages[0]["body"] == "BEN-01 barricade. Reply Y or N"


def test_it_reuses_its_connections_across_requests():
    with StandIn(delay=0) as standin:
        client = client_for(standin.base_url)
        for n in range(5):
            client.messages.create(to=f"+44770090000{n}", from_="+447700900000", body="x")
        assert client.http_client.connections(standin.base_url).opened == 1
        assert len(standin.messages) == 5


def closing_server(answers: list[bytes]):
    """A server that answers one request per connection and then hangs up, without saying
    so (no Connection: close), as a keep-alive timing out between two SMS does; the
    connections it took are counted."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)
            with conn:
                conn.recv(65536)
                body = answers.pop(0)
                conn.sendall(
                    b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )

    threading.Thread(target=serve, daemon=True).start()
    return listener, accepted


def test_a_connection_the_provider_closed_while_idle_is_not_reused():
    sids = [b'{"sid": "SM1", "status": "queued"}', b'{"sid": "SM2", "status": "queued"}']
    listener, accepted = closing_server(sids)
    with listener:
        client = client_for(f"http://127.0.0.1:{listener.getsockname()[1]}")
        first = client.messages.create(to="+447700900001", from_="+447700900000", body="x")
        time.sleep(0.05)  # the provider has hung up by now
        second = client.messages.create(to="+447700900002", from_="+447700900000", body="x")
    assert (first.sid, second.sid) == ("SM1", "SM2")
    assert len(accepted) == 2


def test_it_checks_the_providers_certificate_and_name():
    client = PooledHttpClient(5, 4)
    connections = client.connections("https://api.twilio.com/2010-04-01/Accounts")
    assert connections.context.verify_mode == ssl.CERT_REQUIRED
    assert connections.context.check_hostname
    assert isinstance(connections.get(), http.client.HTTPSConnection)


def test_it_sends_a_request_to_the_host_its_url_names():
    with StandIn(delay=0) as one, StandIn(delay=0) as other:
        transport = PooledHttpClient(5, 4, one.base_url)
        url = f"{other.base_url}/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
        data = {"To": "+447700900001", "From": "+447700900000", "Body": "x"}
        assert transport.request("POST", url, data=data).status_code == 201
        assert (len(one.messages), len(other.messages)) == (0, 1)


def test_a_refused_connection_reads_as_never_reaching_twilio():
    client = client_for(f"http://127.0.0.1:{closed_port()}")
    with pytest.raises(Exception) as raised:
        client.messages.create(to="+447700900001", from_="+447700900000", body="x")
    assert type(classify(raised.value)).__name__ == "TemporaryError"


def test_no_answer_in_time_reads_as_maybe_taken():
    with StandIn(delay=1.0) as standin:
        client = client_for(standin.base_url, timeout=0.2)
        with pytest.raises(Exception) as raised:
            client.messages.create(to="+447700900001", from_="+447700900000", body="x")
    assert type(classify(raised.value)).__name__ == "AmbiguousError"


def test_a_dropped_connection_reads_as_maybe_taken():
    with StandIn(delay=0) as standin:
        standin.faults(drop=True)
        with pytest.raises(Exception) as raised:
            client_for(standin.base_url).messages.create(
                to="+447700900001", from_="+447700900000", body="x"
            )
        assert len(standin.messages) == 1  # it was taken: resending blindly would double it
    assert type(classify(raised.value)).__name__ == "AmbiguousError"


def test_it_goes_through_the_proxy_the_environment_names(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    assert isinstance(PooledHttpClient(5, 4).pool, urllib3.ProxyManager)
    monkeypatch.setenv("NO_PROXY", "api.twilio.com")
    assert not isinstance(PooledHttpClient(5, 4).pool, urllib3.ProxyManager)


def test_it_writes_a_requests_headers_and_body_in_one_go(monkeypatch):
    writes = []
    real = http.client.HTTPConnection.send

    def send(conn, data):
        writes.append(data)
        return real(conn, data)

    monkeypatch.setattr(http.client.HTTPConnection, "send", send)
    with StandIn(delay=0) as standin:
        client_for(standin.base_url).messages.create(
            to="+447700900001", from_="+447700900000", body="BEN-01 barricade"
        )
        assert standin.messages[0]["body"] == "BEN-01 barricade"
    assert len(writes) == 1
    assert writes[0].startswith(b"POST ") and b"Body=BEN-01+barricade" in writes[0]


def test_a_status_callback_names_our_message_at_the_public_address(settings):
    from django.urls import set_script_prefix

    from callouts.messaging.gateways.base import status_callback_url
    from callouts.models import Message

    settings.PUBLIC_BASE_URL = "https://standby.example.police.uk"
    assert status_callback_url(Message(pk=7)) == (
        "https://standby.example.police.uk/twilio/status/?m=7"
    )
    settings.PUBLIC_BASE_URL = "https://other.example"
    set_script_prefix("/standby/")
    try:
        assert (
            status_callback_url(Message(pk=8)) == "https://other.example/standby/twilio/status/?m=8"
        )
    finally:
        set_script_prefix("/")
