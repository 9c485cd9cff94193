"""A local stand-in for Twilio's REST API: enough of Messages.json and Calls.json.

Point the SDK at it with TWILIO_API_BASE=http://127.0.0.1:PORT. It answers each
create after `delay` seconds (Twilio takes a couple of hundred milliseconds),
keeps what it accepted, lists it back (for the lost-sid lookup), and can be told
to fail for a number (a permanent error code, or a temporary 5xx/429 a few times).

    with StandIn(delay=0.2) as standin:
        ... standin.base_url ... standin.messages ...

Faults for `make soak`, switched at run time (`standin.faults(...)`, `clear_faults()`):
- `answer_after=20`: every create is taken (recorded) at once, answered 20 s later,
  past the SDK's 10 s timeout: the client cannot know Twilio has it;
- `drop=True`: every create is taken, then the connection is closed without an answer;
- `status=500` (503, 429): every create is refused with that status, nothing taken;
- `list_status=500`: GET Messages.json / Calls.json (the lost-sid lookup) fail.
"Accepted" (what the soak calls delivered) is a record in `messages`; each carries
`message_id`, our Message's id from the status-callback URL (`?m=`), so one Message
accepted twice is a duplicate while two different messages with the same text are not;
`arrived_at` is when its request had been read, `received_at` when it was taken (delay on).

It serves from one thread with asyncio: as a thread per connection (http.server), 100
requests in flight meant 100 threads waking from their 200 ms under one interpreter lock,
and answers went out up to 0.1 s late, which the benchmarks then counted against us.
"""

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from urllib.parse import parse_qs, urlparse

TWILIO_CODES = {429: 20429, 500: 20500, 503: 20503}
NOT_FOUND = (404, {"code": 20404, "message": "Not found", "status": 404})
# 60 sends open 60 connections at once; a backlog of 5 would drop SYNs and add a one-second
# TCP retry that real Twilio does not have.
BACKLOG = 256


class StandIn:
    def __init__(self, delay: float = 0.2, host: str = "127.0.0.1", port: int = 0):
        self.delay = delay
        self.lock = threading.Lock()
        self.messages: list[dict] = []
        self.calls: list[dict] = []
        # to number -> [(http status, twilio code, how many times)]
        self.failures: dict[str, list] = {}
        self.fault: dict = {}
        # Creates that reached us, taken or not (a client may be killed waiting for one).
        self.received = 0
        # Create requests being answered right now, and the most at once (the budget).
        self.in_flight = 0
        self.max_in_flight = 0
        # Listening from here on, so the address is known before it starts.
        self.socket = socket.create_server((host, port), backlog=BACKLOG)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._started = threading.Event()
        self._stopping: asyncio.Event | None = None

    @property
    def base_url(self) -> str:
        host, port = self.socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        self._started.wait(5)
        return self

    def stop(self):
        if self._stopping is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(self._stopping.set)
            self.thread.join(5)
        with contextlib.suppress(OSError):
            self.socket.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._serve_until_stopped())
        finally:
            self.loop.close()

    async def _serve_until_stopped(self):
        self._stopping = asyncio.Event()
        connections: set[asyncio.Task] = set()

        async def connected(reader, writer):
            task = asyncio.current_task()
            connections.add(task)
            try:
                await _Connection(self, reader, writer).serve()
            finally:
                connections.discard(task)

        server = await asyncio.start_server(connected, sock=self.socket)
        self._started.set()
        await self._stopping.wait()
        server.close()
        for task in list(connections):
            task.cancel()
        await asyncio.gather(*connections, return_exceptions=True)

    def fail(self, to: str, status: int, code: int, times: int = 1_000_000):
        self.failures.setdefault(to, []).append([status, code, times])

    def _failure(self, to):
        with self.lock:
            for entry in self.failures.get(to, []):
                if entry[2] > 0:
                    entry[2] -= 1
                    return entry[0], entry[1]
        return None

    def sent_to(self, to: str) -> list[dict]:
        return [m for m in self.messages if m["to"] == to]

    def faults(self, *, answer_after=0.0, drop=False, status=None, list_status=None):
        """Switch the global fault mode (replacing the previous one); see the module doc."""
        self.fault = {
            "answer_after": answer_after,
            "drop": drop,
            "status": status,
            "list_status": list_status,
        }

    def clear_faults(self):
        self.fault = {}

    def accepted(self) -> list[dict]:
        """A snapshot of the messages taken so far."""
        with self.lock:
            return list(self.messages)

    def counts(self) -> dict[tuple[str, str], int]:
        """How many messages were taken per (To, Body)."""
        counted: dict[tuple[str, str], int] = {}
        for m in self.accepted():
            key = (m["to"], m["body"] or "")
            counted[key] = counted.get(key, 0) + 1
        return counted


def _now():
    return format_datetime(datetime.now(UTC), usegmt=True)


class _Hangup(Exception):
    """Close the connection without an answer."""


class _Connection:
    """One client connection: HTTP/1.1 requests one after another, kept alive."""

    def __init__(self, standin: StandIn, reader, writer):
        self.standin, self.reader, self.writer = standin, reader, writer

    async def serve(self):
        try:
            while True:
                request = await self._read()
                if request is None:
                    return
                method, target, headers, raw = request
                status, payload = await self._answer(method, target, raw)
                body = json.dumps(payload).encode()
                self.writer.write(
                    f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                    f"Date: {_now()}\r\n\r\n".encode()
                    + body
                )
                await self.writer.drain()
                if headers.get("connection", "").lower() == "close":
                    return
        except (_Hangup, ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return  # a client killed mid-request (the point of some tests) is not news
        finally:
            self.writer.close()

    async def _read(self):
        """(method, target, headers, body) of the next request, or None when the client has
        gone. A body shorter than Content-Length said (a client killed mid-request) hangs up:
        Twilio takes no message from half a request."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        raw = await self.reader.readexactly(int(headers.get("content-length") or 0))
        return method, target, headers, raw

    async def _answer(self, method, target, raw):
        url = urlparse(target)
        if method == "GET":
            return self._list(url)
        if method != "POST":
            return NOT_FOUND
        form = {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}
        if "/Calls/" in url.path and url.path.endswith(".json"):
            return self._update_call(url.path.rsplit("/", 1)[1][: -len(".json")], form)
        kind = _kind(url.path)
        if kind is None:
            return NOT_FOUND
        return await self._create(kind, form)

    async def _create(self, kind, form):
        standin = self.standin
        arrived_at = time.monotonic()
        with standin.lock:
            standin.received += 1
            standin.in_flight += 1
            standin.max_in_flight = max(standin.max_in_flight, standin.in_flight)
        fault = standin.fault
        try:
            await asyncio.sleep(standin.delay)
        finally:
            with standin.lock:
                standin.in_flight -= 1
        failure = standin._failure(form.get("To", ""))
        if fault.get("status"):
            failure = (fault["status"], TWILIO_CODES.get(fault["status"], 20500))
        if failure:
            status, code = failure
            return status, {"code": code, "message": "Stand-in failure", "status": status}
        callback = form.get("StatusCallback") or ""
        message_id = parse_qs(urlparse(callback).query).get("m", [None])[0]
        record = {
            "sid": ("SM" if kind == "messages" else "CA") + uuid.uuid4().hex,
            "to": form.get("To", ""),
            "from": form.get("From", ""),
            "body": form.get("Body"),
            "url": form.get("Url"),
            "status": "queued",
            "status_callback": form.get("StatusCallback"),
            "date_created": _now(),
            "date_sent": None,
            "direction": "outbound-api",
            "received_at": time.monotonic(),
            "arrived_at": arrived_at,
            "message_id": int(message_id) if message_id and message_id.isdigit() else None,
        }
        with standin.lock:
            getattr(standin, kind).append(record)
        if fault.get("drop"):
            raise _Hangup
        if fault.get("answer_after"):
            await asyncio.sleep(fault["answer_after"])
        return 201, record

    def _update_call(self, sid, form):
        standin = self.standin
        with standin.lock:
            call = next((c for c in standin.calls if c["sid"] == sid), None)
            if call is not None and form.get("Status"):
                call["status"] = form["Status"]
        if call is None:
            return NOT_FOUND
        return 200, call

    def _list(self, url):
        standin = self.standin
        kind = _kind(url.path)
        if kind is None:
            return NOT_FOUND
        list_status = standin.fault.get("list_status")
        if list_status:
            return list_status, {
                "code": 20500,
                "message": "Stand-in list failure",
                "status": list_status,
            }
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with standin.lock:
            rows = [
                r for r in reversed(getattr(standin, kind)) if r["to"] == query.get("To", r["to"])
            ]
        size = int(query.get("PageSize", 50))
        page = {kind: rows[:size], "next_page_uri": None, "page": 0, "page_size": size}
        return 200, {**page, "uri": url.path}


def _kind(path):
    if path.endswith("/Messages.json"):
        return "messages"
    if path.endswith("/Calls.json"):
        return "calls"
    return None
