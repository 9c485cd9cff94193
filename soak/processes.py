"""Starting, killing and finding the app's processes (Linux /proc; no psutil)."""

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start(args, env, log: Path) -> subprocess.Popen:
    """A process in a session of its own (so a group kill reaches all its children)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            args, cwd=ROOT, env=env, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


def kill(process: subprocess.Popen, sig=signal.SIGKILL):
    """Signal the whole process group, no goodbye; reap the leader."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(10)


def stop(process: subprocess.Popen, grace=5.0):
    """SIGTERM to the group, then SIGKILL to whatever is left of it."""
    if process is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(5)


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields:
                parents[int(entry.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


def threads(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[17]) if fields else 0


def queue_workers(cluster: subprocess.Popen) -> list[int]:
    """django-q2's worker processes: the cluster's processes running the sending threads.

    Each worker starts CALLOUTS_PROVIDER_CONCURRENCY sending threads when spawned (post_spawn); the
    sentinel, pusher and monitor run a handful.
    """
    return [pid for pid in descendants(cluster.pid) if threads(pid) >= 8]


def wait_for(predicate, timeout, every=0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return bool(predicate())
