"""What reaches the app from outside: the control room's API calls and Twilio's signed replies.

Every request is timed and its answer kept (status, or the exception), so a
scenario can say how many 5xx, refused connections and slow answers there were,
and when. A reply is sent once, as Twilio does: a 5xx or a timeout is not retried.
"""

import http.client
import itertools
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

PUBLIC = "https://soak.standby.invalid"
AUTH_TOKEN = "soak-auth-token-0123456789abcdef"
FROM_NUMBER = "+447700900000"
# Twilio waits 15 s for a webhook's answer.
WEBHOOK_TIMEOUT = 15


@dataclass
class Request:
    kind: str  # "api", "reply" or "status"
    started: float  # time.monotonic()
    seconds: float = 0.0
    status: int | None = None  # None: no HTTP answer at all
    error: str = ""


@dataclass
class Reply:
    sid: str
    from_number: str
    body: str
    request: Request


class Web:
    def __init__(self, port: int, token: str, tag: str):
        self.port, self.token = port, token
        self.requests: list[Request] = []
        self.replies: list[Reply] = []
        self.lock = threading.Lock()
        self.validator = RequestValidator(AUTH_TOKEN)
        self.sids = itertools.count(1)
        self.tag = tag
        self.pool = ThreadPoolExecutor(max_workers=24, thread_name_prefix=f"soak-{tag}")
        self.pending = []
        self.submitted = 0

    def _call(self, kind, method, path, body=b"", headers=None, timeout=30.0):
        record = Request(kind, time.monotonic())
        data = None
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            record.status, data = response.status, response.read()
        except (OSError, http.client.HTTPException) as e:
            record.error = f"{type(e).__name__}: {e}"[:120]
        finally:
            connection.close()
            record.seconds = time.monotonic() - record.started
            with self.lock:
                self.requests.append(record)
        return record, data

    def api(self, method, path, payload=None):
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        body = json.dumps(payload).encode() if payload is not None else b""
        record, data = self._call("api", method, "/api" + path, body, headers)
        try:
            return record.status, json.loads(data) if data else None
        except ValueError:
            return record.status, None

    def raise_incident(self, needs, location="Soak town", tries=20, policy="Soak"):
        """POST /api/incidents/; a failed attempt (the database may be down) is tried again."""
        payload = {
            "kind": "barricade",
            "location": location,
            "rendezvous": "North car park",
            "needs": needs,
            "policy": policy,
            "force": "SOK",
        }
        for _ in range(tries):
            status, data = self.api("POST", "/incidents/", payload)
            if status == 201:
                return data
            time.sleep(1)
        raise RuntimeError(f"could not raise an incident: {status} {data}")

    def status_callback(self, url: str, params: dict) -> Request:
        """Twilio's signed status callback to `url` (the one our message gave), sent once."""
        path = url.removeprefix(PUBLIC)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
        }
        record, _ = self._call(
            "status", "POST", path, urlencode(params).encode(), headers, timeout=WEBHOOK_TIMEOUT
        )
        return record

    def stand_down(self, incident_id, tries=20):
        for _ in range(tries):
            status, data = self.api("POST", f"/incidents/{incident_id}/stand-down/")
            if status == 200:
                return data
            time.sleep(1)
        raise RuntimeError(f"could not stand incident {incident_id} down: {status} {data}")

    def reply(self, from_number: str, body: str, wait=False):
        """A signed inbound SMS with a MessageSid of its own, sent in the background."""
        sid = f"SMsoak{self.tag}{next(self.sids):026d}"[:34]
        params = {
            "MessageSid": sid,
            "AccountSid": "AC" + "0" * 32,
            "From": from_number,
            "To": FROM_NUMBER,
            "Body": body,
            "NumMedia": "0",
        }
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self.validator.compute_signature(PUBLIC + "/twilio/sms/", params),
        }

        def send():
            record, _ = self._call(
                "reply", "POST", "/twilio/sms/", urlencode(params).encode(), headers,
                timeout=WEBHOOK_TIMEOUT,
            )  # fmt: skip
            with self.lock:
                self.replies.append(Reply(sid, from_number, body, record))

        with self.lock:
            self.submitted += 1
        future = self.pool.submit(send)
        if wait:
            future.result()
        with self.lock:
            self.pending.append(future)
        return sid

    def drain(self):
        """Wait for every reply in flight to have its answer (or its timeout)."""
        with self.lock:
            pending, self.pending = self.pending, []
        for future in pending:
            future.result()

    def close(self):
        self.drain()
        self.pool.shutdown(wait=True)

    def failures(self, since=0.0):
        """Requests started at or after `since`: (5xx count, no answer count, slowest seconds)."""
        with self.lock:
            chosen = [r for r in self.requests if r.started >= since]
        server_errors = sum(1 for r in chosen if r.status and r.status >= 500)
        no_answer = sum(1 for r in chosen if r.status is None)
        return server_errors, no_answer, max((r.seconds for r in chosen), default=0.0)
