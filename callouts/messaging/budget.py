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
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)


def size() -> int:
    return max(1, int(getattr(settings, "CALLOUTS_PROVIDER_CONCURRENCY", 100)))


# When every slot is in use, how long at most before a process looks again for one that
# another process gave back: one thread looks, so looking often costs little, and a step's
# next wave sent from another worker starts that much sooner (20 ms: 300 SMS 10 ms slower).
LOOK_AT_MOST_EVERY = 0.005


class Budget:
    def __init__(self, slots: int, folder: Path | None):
        self.slots = slots
        self.folder = folder
        self._threads = threading.BoundedSemaphore(slots)
        self._lock = threading.Lock()
        # Signalled when a slot of ours is given back, or the thread looking hands over.
        self._freed = threading.Condition(self._lock)
        self._looking = False
        self._backoff = 0.001
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
        """A free slot, waiting for one if need be.

        When every slot is in use, one thread of this process looks again now and then for
        a slot another process gave back; the others sleep until one of ours is given back
        or the looker hands over. Each thread polling on its own made a process whose 100
        threads waited for another's burn a third of a core scanning slots (300-SMS step).
        """
        with self._lock:
            looking = waited = False
            try:
                while True:
                    index = self._scan()
                    if index is not None:
                        if not waited:
                            self._backoff = 0.001  # no longer short of slots
                        return index
                    waited = True
                    if self._looking and not looking:
                        self._freed.wait()
                        continue
                    self._looking = looking = True
                    # Every slot is in use: one frees within a request's time.
                    self._freed.wait(self._backoff)
                    self._backoff = min(self._backoff * 2, LOOK_AT_MOST_EVERY)
            finally:
                if looking:
                    self._looking = False
                if waited:
                    # The next waiter looks now: for another slot freed meanwhile, or to
                    # be the one that looks from now on.
                    self._freed.notify()

    def _scan(self) -> int | None:
        """Take a free slot (the caller holds the lock), or None."""
        start = random.randrange(self.slots)
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
        return None

    def _give(self, index: int) -> None:
        with self._lock:
            fcntl.flock(self._files[index], fcntl.LOCK_UN)
            self._held.discard(index)
            self._freed.notify()


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
