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
accepted twice is a duplicate while two different messages with the same text are not.
"""

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TWILIO_CODES = {429: 20429, 500: 20500, 503: 20503}


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
        self.server = _QuietServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

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


class _QuietServer(ThreadingHTTPServer):
    # 60 sends open 60 connections at once; the default backlog of 5 would drop
    # SYNs and add a one-second TCP retry that real Twilio does not have.
    request_queue_size = 256

    def handle_error(self, request, client_address):
        # A client killed mid-request (the point of some tests) is not news.
        pass


def _now():
    return format_datetime(datetime.now(UTC), usegmt=True)


def _handler(standin: StandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _reply(self, status, payload):
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _kind(self):
            path = urlparse(self.path).path
            if path.endswith("/Messages.json"):
                return "messages"
            if path.endswith("/Calls.json"):
                return "calls"
            return None

        def do_POST(self):
            path = urlparse(self.path).path
            if "/Calls/" in path and path.endswith(".json"):
                return self._update_call(path.rsplit("/", 1)[1][: -len(".json")])
            kind = self._kind()
            form = self._form()
            if form is None:
                # The client died mid-request (a SIGKILLed worker): Twilio takes no message
                # from half a request, and its To would be missing here.
                self.close_connection = True
                return None
            if kind is None:
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
            with standin.lock:
                standin.received += 1
                standin.in_flight += 1
                standin.max_in_flight = max(standin.max_in_flight, standin.in_flight)
            fault = standin.fault
            try:
                time.sleep(standin.delay)
            finally:
                with standin.lock:
                    standin.in_flight -= 1
            failure = standin._failure(form.get("To", ""))
            if fault.get("status"):
                failure = (fault["status"], TWILIO_CODES.get(fault["status"], 20500))
            if failure:
                status, code = failure
                failed = {"code": code, "message": "Stand-in failure", "status": status}
                return self._reply(status, failed)
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
                "message_id": int(message_id) if message_id and message_id.isdigit() else None,
            }
            with standin.lock:
                getattr(standin, kind).append(record)
            if fault.get("drop"):
                self.close_connection = True
                return None
            if fault.get("answer_after"):
                time.sleep(fault["answer_after"])
            return self._reply(201, record)

        def _form(self):
            """The form posted, or None when fewer bytes came than Content-Length said."""
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            if len(raw) < length:
                return None
            return {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}

        def _update_call(self, sid):
            form = self._form()
            if form is None:
                self.close_connection = True
                return None
            with standin.lock:
                call = next((c for c in standin.calls if c["sid"] == sid), None)
                if call is not None and form.get("Status"):
                    call["status"] = form["Status"]
            if call is None:
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
            return self._reply(200, call)

        def do_GET(self):
            kind = self._kind()
            if kind is None:
                return self._reply(404, {"code": 20404, "message": "Not found", "status": 404})
            list_status = standin.fault.get("list_status")
            if list_status:
                failed = {"code": 20500, "message": "Stand-in list failure", "status": list_status}
                return self._reply(list_status, failed)
            query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
            with standin.lock:
                rows = [
                    r
                    for r in reversed(getattr(standin, kind))
                    if r["to"] == query.get("To", r["to"])
                ]
            size = int(query.get("PageSize", 50))
            return self._reply(
                200,
                {
                    kind: rows[:size],
                    "next_page_uri": None,
                    "page": 0,
                    "page_size": size,
                    "uri": urlparse(self.path).path,
                },
            )

    return Handler
