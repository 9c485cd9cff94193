"""The provider budget: how many requests to the provider may be in flight at once.

Twilio limits an account's concurrent requests (100 by default) and refuses the excess
with 429 / 20429, which it never processed. So every send on this machine shares one
budget, CALLOUTS_PROVIDER_CONCURRENCY slots, whichever queue worker (or the clock's
reconcile) makes the request: a step of 300 SMS uses the whole budget at once, and
answers to replies made meanwhile in another worker wait for a slot, not for a wave.

A slot is a file in VAR_DIR/provider-slots held with flock for the length of one
request: every process on the machine sees the same slots, and a process killed
mid-request gives its slots back with it (the kernel drops its locks). Within a
process a semaphore keeps threads from scanning for slots they cannot get. Where
the folder cannot be used, the budget is this process's alone (logged once).
With several machines, give each its share of the account's limit: a 429 from
going over is retried (callouts.messaging.sending), never lost.
"""

import contextlib
import fcntl
import logging
import os
import random
import threading
import time
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)


def size() -> int:
    return max(1, int(getattr(settings, "CALLOUTS_PROVIDER_CONCURRENCY", 100)))


class Budget:
    def __init__(self, slots: int, folder: Path | None):
        self.slots = slots
        self.folder = folder
        self._threads = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        self._held: set[int] = set()
        self._files: dict[int, int] = {}
        self.in_flight = 0  # this process's, for tests and figures
        if folder is not None:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                log.warning("provider budget is per process: cannot use %s (%s)", folder, error)
                self.folder = None

    @contextlib.contextmanager
    def slot(self):
        """Hold one slot of the budget for the length of one provider request."""
        self._threads.acquire()
        try:
            index = self._take() if self.folder is not None else None
            with self._lock:
                self.in_flight += 1
            try:
                yield index
            finally:
                with self._lock:
                    self.in_flight -= 1
                if index is not None:
                    self._give(index)
        finally:
            self._threads.release()

    def _file(self, index: int) -> int:
        fd = self._files.get(index)
        if fd is None:
            fd = os.open(self.folder / f"slot-{index:04d}", os.O_RDWR | os.O_CREAT, 0o600)
            self._files[index] = fd
        return fd

    def _take(self) -> int:
        wait = 0.001
        while True:
            start = random.randrange(self.slots)
            with self._lock:
                for step in range(self.slots):
                    index = (start + step) % self.slots
                    if index in self._held:
                        continue
                    try:
                        fcntl.flock(self._file(index), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # another process's request
                    self._held.add(index)
                    return index
            # Every slot is in use by other processes: one frees within a request's time.
            time.sleep(wait)
            wait = min(wait * 2, 0.02)

    def _give(self, index: int) -> None:
        with self._lock:
            fcntl.flock(self._files[index], fcntl.LOCK_UN)
            self._held.discard(index)


_budget: Budget | None = None
_budget_lock = threading.Lock()


def budget() -> Budget:
    """This process's view of the machine's budget (rebuilt if the setting changed)."""
    global _budget
    folder = Path(settings.VAR_DIR) / "provider-slots"
    with _budget_lock:
        if _budget is None or _budget.slots != size() or _budget.folder not in (folder, None):
            _budget = Budget(size(), folder)
        return _budget
