"""A small open-loop HTTP load generator for 127.0.0.1 only.

Requests are sent on a fixed schedule (rate per second), each timed from the
moment it was due, not from when a connection came free: a server that falls
behind shows it in the latencies instead of quietly slowing the generator down
("coordinated omission"). Concurrency is bounded by the number of keep-alive
connections; the total number of requests is fixed in advance.
"""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

LOCAL = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Result:
    sent: int
    ok: int
    failed: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    started: float = 0.0  # time.monotonic() when the first request was due (request i: + i/rate)

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]


async def _read_response(reader) -> tuple[int, bool]:
    """The status, and whether the connection may be used again."""
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length, reusable = 0, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "connection" and value.strip().lower() == "close":
            reusable = False
    if length:
        await reader.readexactly(length)
    return status, reusable


def _request_bytes(host, path, body: bytes, headers: dict) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _run(url, requests, rate, connections, timeout):
    parts = urlsplit(url)
    if parts.hostname not in LOCAL:
        raise ValueError("The load generator only talks to this machine (127.0.0.1)")
    host = parts.netloc
    wire = [_request_bytes(host, path, body, headers) for path, body, headers in requests]
    pool: asyncio.Queue = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(None)  # connections are opened lazily
    latencies, statuses = [], {}
    failed = 0

    async def one(payload, due):
        nonlocal failed
        conn = await pool.get()
        try:
            if conn is None:
                conn = await asyncio.open_connection(parts.hostname, parts.port)
            reader, writer = conn
            writer.write(payload)
            status, reusable = await asyncio.wait_for(_read_response(reader), timeout)
            latencies.append(time.perf_counter() - due)
            statuses[status] = statuses.get(status, 0) + 1
            if not reusable:
                writer.close()
                conn = None
            pool.put_nowait(conn)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
            failed += 1
            if conn is not None:
                conn[1].close()
            pool.put_nowait(None)

    start = time.perf_counter()
    tasks = []
    for i, payload in enumerate(wire):
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(payload, due)))
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - start
    while not pool.empty():
        conn = pool.get_nowait()
        if conn is not None:
            conn[1].close()
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    return Result(
        len(wire),
        ok,
        failed + sum(statuses.values()) - ok,
        seconds,
        latencies,
        statuses,
        started=start - time.perf_counter() + time.monotonic(),
    )


def run(url, requests, rate, connections=64, timeout=15.0) -> Result:
    """POST `requests` ([(path, body, headers)]) to `url`'s host at `rate` per second."""
    return asyncio.run(_run(url, requests, rate, connections, timeout))


async def _closed(url, requests, connections, seconds, timeout):
    parts = urlsplit(url)
    if parts.hostname not in LOCAL:
        raise ValueError("The load generator only talks to this machine (127.0.0.1)")
    host = parts.netloc
    wire = [_request_bytes(host, path, body, headers) for path, body, headers in requests]
    latencies, statuses = [], {}
    failed = 0
    position = 0
    start = time.perf_counter()
    stop_at = start + seconds

    async def client():
        nonlocal failed, position
        conn = None
        while time.perf_counter() < stop_at and position < len(wire):
            payload = wire[position]
            position += 1
            began = time.perf_counter()
            try:
                if conn is None:
                    conn = await asyncio.open_connection(parts.hostname, parts.port)
                reader, writer = conn
                writer.write(payload)
                status, reusable = await asyncio.wait_for(_read_response(reader), timeout)
                latencies.append(time.perf_counter() - began)
                statuses[status] = statuses.get(status, 0) + 1
                if not reusable:
                    writer.close()
                    conn = None
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError):
                failed += 1
                if conn is not None:
                    conn[1].close()
                conn = None
        if conn is not None:
            conn[1].close()

    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    ok = sum(n for s, n in statuses.items() if 200 <= s < 300)
    sent = len(latencies) + failed
    return Result(sent, ok, failed + sum(statuses.values()) - ok, elapsed, latencies, statuses)


def run_closed(url, requests, connections=8, seconds=10.0, timeout=15.0) -> Result:
    """Closed loop: `connections` clients, each sending its next request as soon as the last
    is answered, for `seconds` (or until `requests` run out)."""
    return asyncio.run(_closed(url, requests, connections, seconds, timeout))
