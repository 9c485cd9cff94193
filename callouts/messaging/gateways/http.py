"""The Twilio SDK's HTTP transport: kept-alive connections shared by every sending thread.

The SDK takes any `twilio.http.HttpClient`. Its own (`TwilioHttpClient`) goes through
requests, which for each call prepares a request, merges cookies and hooks, and reads
the proxy settings from the environment again, with a session per thread. This one makes
the same request on the standard library's http.client, over connections kept open and
shared by all sending threads; proxies are read once.

Why not urllib3 (requests' own layer, which this used before): its pool manager, pool,
retry and timeout objects cost 0.35 ms of CPU per SMS over http.client's (0.80 ms against
0.46 ms a message, SDK included, measured side by side). A step's 300 SMS are made by one
process's threads under one interpreter lock, so that CPU is what spreads each wave of
requests out. Through a proxy (HTTPS_PROXY), which needs CONNECT tunnels and absolute
URLs, urllib3's ProxyManager still does the work.

Failures are raised as the requests exceptions the SDK's own client raises (as requests'
HTTPAdapter maps them), so the gateway tells "never reached Twilio" from "maybe taken"
exactly as before (gateways.twilio.classify): only a connection that could not be made
is "never reached"; once a request may have been written, any failure is "maybe taken".
"""

import http.client
import json
import ssl
import threading
import urllib.request
from base64 import b64encode
from urllib.parse import urlencode, urlsplit

import requests
import urllib3
from twilio.http import HttpClient
from twilio.http.response import Response
from urllib3.exceptions import (
    ConnectTimeoutError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.wait import wait_for_read


def encode(values) -> str:
    """A form or query string as requests writes it: lists repeat the key, None is left out."""
    pairs = []
    for key, value in (values or {}).items():
        for item in value if isinstance(value, list | tuple) else [value]:
            if item is not None:
                pairs.append((key, item))
    return urlencode(pairs)


def basic_auth(auth) -> str:
    user, password = auth
    return "Basic " + b64encode(f"{user}:{password}".encode()).decode("ascii")


def _proxy_for(url: str) -> str | None:
    """HTTPS_PROXY / HTTP_PROXY from the environment, unless NO_PROXY covers the host."""
    parts = urlsplit(url)
    if urllib.request.proxy_bypass(parts.hostname or ""):
        return None
    return urllib.request.getproxies().get(parts.scheme)


class _OneWrite:
    """Headers and body in one write: http.client writes them apart, two segments the
    provider's server must read (and wake for) one after the other, for every SMS."""

    def _send_output(self, message_body=None, encode_chunked=False):
        if not isinstance(message_body, bytes) or encode_chunked:
            return super()._send_output(message_body, encode_chunked)
        self._buffer.extend((b"", b""))
        headers = b"\r\n".join(self._buffer)
        del self._buffer[:]
        self.send(headers + message_body)
        return None


class HTTPConnection(_OneWrite, http.client.HTTPConnection):
    pass


class HTTPSConnection(_OneWrite, http.client.HTTPSConnection):
    pass


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        parts.hostname or "",
        parts.port or (443 if parts.scheme == "https" else 80),
    )


class Connections:
    """Kept-alive connections to one origin, for any thread (the direct path, no proxy).

    At most one connection per thread in a request, so never more than the sending
    threads (the provider budget); an idle one is taken newest first.
    """

    def __init__(self, scheme: str, host: str, port: int, timeout: float):
        self.https = scheme == "https"
        self.host, self.port = host, port
        self.timeout = timeout
        self.context = ssl.create_default_context() if self.https else None
        # list.append and list.pop are atomic: no lock between the sending threads.
        self.idle: list[http.client.HTTPConnection] = []
        self.opened = 0

    def get(self) -> http.client.HTTPConnection:
        """An idle connection still open, else a new one (not connected yet)."""
        while True:
            try:
                conn = self.idle.pop()
            except IndexError:
                break
            # Readable while idle: the provider closed it (keep-alive timed out). Writing a
            # request on it would fail after the fact, and read as "maybe taken".
            if conn.sock is not None and not wait_for_read(conn.sock, timeout=0.0):
                return conn
            conn.close()
        self.opened += 1
        if self.https:
            return HTTPSConnection(self.host, self.port, timeout=self.timeout, context=self.context)
        return HTTPConnection(self.host, self.port, timeout=self.timeout)

    def put(self, conn: http.client.HTTPConnection):
        self.idle.append(conn)


def _connect(conn: http.client.HTTPConnection, timeout: float):
    """Open the connection, or raise what says the request never left."""
    conn.timeout = timeout
    try:
        conn.connect()
    except TimeoutError as e:
        conn.close()
        raise requests.exceptions.ConnectTimeout(e) from e
    except ssl.SSLError as e:
        conn.close()
        raise requests.exceptions.SSLError(e) from e
    except OSError as e:  # refused, unreachable, no such host
        conn.close()
        raise requests.exceptions.ConnectionError(NewConnectionError(None, str(e))) from e


class PooledHttpClient(HttpClient):
    def __init__(self, timeout: float, pool_size: int, base_url: str = "https://api.twilio.com"):
        super().__init__(logger=None, is_async=False, timeout=timeout)
        proxy = _proxy_for(base_url)
        self.pool = None
        if proxy:
            self.pool = urllib3.ProxyManager(
                proxy, maxsize=max(1, pool_size), block=True, retries=False
            )
        # Connections by origin: the SDK's own URLs are all on the API's, but nothing
        # asked of another host may be sent to that one.
        self.origins: dict[tuple, Connections] = {}
        self.origins_lock = threading.Lock()

    def request(
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        auth=None,
        timeout=None,
        allow_redirects=False,
    ) -> Response:
        timeout = self.timeout if timeout is None else timeout
        headers = dict(headers or {})
        if auth:
            headers["Authorization"] = basic_auth(auth)
        if params:
            url = f"{url}?{encode(params)}"
        body = None
        if data is not None and method.upper() not in ("GET", "DELETE"):
            if headers.get("Content-Type", "").endswith("json"):
                body = json.dumps(data)
            else:
                body = encode(data)
                headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.pool is not None:
            return self._via_proxy(method, url, body, headers, timeout, allow_redirects)
        connections = self.connections(url)
        conn = connections.get()
        if conn.sock is None:
            _connect(conn, timeout)
        else:
            conn.sock.settimeout(timeout)
        parts = urlsplit(url)
        path = f"{parts.path}?{parts.query}" if parts.query else parts.path
        try:
            conn.request(method.upper(), path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8")
        except TimeoutError as e:
            conn.close()
            raise requests.exceptions.ReadTimeout(e) from e
        except (http.client.HTTPException, OSError) as e:
            conn.close()
            raise requests.exceptions.ConnectionError(e) from e
        if response.will_close:
            conn.close()
        else:
            connections.put(conn)
        # Messages and their bodies are not logged: a body names an incident and a place.
        return Response(response.status, text, response.headers)

    def connections(self, url: str) -> Connections:
        key = origin(url)
        found = self.origins.get(key)
        if found is None:
            with self.origins_lock:
                found = self.origins.setdefault(key, Connections(*key, self.timeout))
        return found

    def _via_proxy(self, method, url, body, headers, timeout, allow_redirects) -> Response:
        try:
            response = self.pool.request(
                method.upper(),
                url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(connect=timeout, read=timeout),
                redirect=allow_redirects,
                preload_content=True,
            )
        except NewConnectionError as e:
            raise requests.exceptions.ConnectionError(e) from e
        except ConnectTimeoutError as e:
            raise requests.exceptions.ConnectTimeout(e) from e
        except ReadTimeoutError as e:
            raise requests.exceptions.ReadTimeout(e) from e
        except ProxyError as e:
            raise requests.exceptions.ProxyError(e) from e
        except SSLError as e:
            raise requests.exceptions.SSLError(e) from e
        except (ProtocolError, urllib3.exceptions.HTTPError, OSError) as e:
            raise requests.exceptions.ConnectionError(e) from e
        return Response(response.status, response.data.decode("utf-8"), response.headers)
