"""The SDK's own HTTP client, one per process (gateways.twilio.http_client): what reaches the
provider, over which connections, and how its failures read."""

import socket
import threading
import time

import pytest
import requests
from twilio.rest import Client

from bench.twilio_standin import StandIn
from callouts.messaging.gateways import twilio
from callouts.messaging.gateways.twilio import classify

ACCOUNT = "AC" + "0" * 32


@pytest.fixture(autouse=True)
def fresh_transport(monkeypatch):
    """Each test its own process-wide client (it is made once and kept), no proxy set."""
    twilio.http_client.cache_clear()
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    yield
    twilio.http_client.cache_clear()


def client_for(base_url, timeout=5.0, pool_size=4):
    transport = twilio.http_client(pool_size)
    transport.timeout = timeout
    client = Client(ACCOUNT, "token", http_client=transport)
    client.api.base_url = base_url
    return client


def send(client, n=1):
    return client.messages.create(to=f"+44770090000{n}", from_="+447700900000", body="x")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_it_sends_the_sms_and_reads_back_the_sid():
    with StandIn(delay=0) as standin:
        created = client_for(standin.base_url).messages.create(
            to="+447700900001", from_="+447700900000", body="BEN-01 barricade. Reply Y or N"
        )
        assert created.sid == standin.messages[0]["sid"]
        assert standin.messages[0]["body"] == "BEN-01 barricade. Reply Y or N"


def test_every_sending_threads_gateway_shares_one_client(settings):
    settings.SMS_GATEWAY = "twilio"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "token"
    settings.TWILIO_FROM_NUMBER = "+447700900000"
    settings.CALLOUTS_PROVIDER_CONCURRENCY = 7
    gateways = [twilio.TwilioGateway(), twilio.TwilioGateway()]
    transports = {id(g.client.http_client) for g in gateways}
    assert len(transports) == 1
    adapter = gateways[0].client.http_client.session.get_adapter("https://api.twilio.com")
    assert adapter._pool_maxsize == 7  # one kept-alive connection per request in flight
    assert adapter.max_retries.total == 0


def test_it_reuses_its_connections_across_requests_and_threads():
    with StandIn(delay=0) as standin:
        client = client_for(standin.base_url)
        send(client, 0)
        threads = [threading.Thread(target=send, args=(client, n)) for n in range(1, 4)]
        for thread in threads:
            thread.start()
            thread.join()
        pools = client.http_client.session.get_adapter(standin.base_url).poolmanager.pools
        origins = pools.keys()  # the container cannot be iterated itself
        assert [pools[origin].num_connections for origin in origins] == [1]
        assert len(standin.messages) == 4


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
        first = send(client, 1)
        time.sleep(0.05)  # the provider has hung up by now
        second = send(client, 2)
    assert (first.sid, second.sid) == ("SM1", "SM2")
    assert len(accepted) == 2


def test_it_checks_the_providers_certificate():
    assert twilio.http_client(4).session.verify is True


def test_a_refused_connection_reads_as_never_reaching_twilio():
    with pytest.raises(Exception) as raised:
        send(client_for(f"http://127.0.0.1:{closed_port()}"))
    assert type(classify(raised.value)).__name__ == "TemporaryError"


def test_no_answer_in_time_reads_as_maybe_taken():
    with StandIn(delay=1.0) as standin, pytest.raises(Exception) as raised:
        send(client_for(standin.base_url, timeout=0.2))
    assert type(classify(raised.value)).__name__ == "AmbiguousError"


def test_a_dropped_connection_reads_as_maybe_taken():
    with StandIn(delay=0) as standin:
        standin.faults(drop=True)
        with pytest.raises(Exception) as raised:
            send(client_for(standin.base_url))
        assert len(standin.messages) == 1  # it was taken: resending blindly would double it
    assert type(classify(raised.value)).__name__ == "AmbiguousError"


def test_a_dropped_connection_is_not_sent_again_by_the_client():
    with StandIn(delay=0) as standin:
        standin.faults(drop=True)
        with pytest.raises(requests.exceptions.ConnectionError):
            send(client_for(standin.base_url))
        assert standin.received == 1


def recording_proxy():
    """A proxy that notes each request line and refuses it (403)."""
    listener = socket.create_server(("127.0.0.1", 0))
    lines = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                lines.append(conn.recv(65536).split(b"\r\n", 1)[0].decode())
                conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")

    threading.Thread(target=serve, daemon=True).start()
    return listener, f"http://127.0.0.1:{listener.getsockname()[1]}", lines


def test_it_goes_through_the_proxy_the_environment_names(monkeypatch):
    listener, proxy, lines = recording_proxy()
    with listener:
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        with pytest.raises(requests.exceptions.ProxyError):
            send(client_for("https://api.twilio.example"))
    assert lines == ["CONNECT api.twilio.example:443 HTTP/1.1"]


def test_it_goes_direct_to_a_host_no_proxy_names(monkeypatch):
    listener, proxy, lines = recording_proxy()
    with listener, StandIn(delay=0) as standin:
        monkeypatch.setenv("HTTP_PROXY", proxy)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        send(client_for(standin.base_url))
        assert len(standin.messages) == 1
    assert lines == []


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
