"""The inbound spool: SMS that the webhook could not store because the database was down.

One file per message in settings.SPOOL_DIR, on the web server's own disk. A file is
written under a hidden temporary name, fsynced, renamed into place and the folder
fsynced, so a listed file is always whole, and Twilio is answered only once it is on
disk. Names are `<arrival time in ns, 20 digits>-<MessageSid>.sms`: sorted, they are
the order of arrival (the time is the wall clock, made strictly increasing within a
process, so that every web process on the machine shares one order).

This module only keeps files; callouts.engine.intake takes them in (in order, each
removed only after its insert committed, so a crash in between inserts it again and
the unique MessageSid drops the copy). Whoever takes them in holds the spool's lock,
so two processes on one machine never take in the same files side by side.

The webhook asks `may_hold_messages()` on every request: one stat of the folder,
compared with its modification time when this process last found it empty; the
folder is listed only when something may have changed.
"""

import fcntl
import json
import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings

SUFFIX = ".sms"
REJECTED = "rejected"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# A folder unchanged for this long before it was listed empty is known to be empty
# (file times come from a coarse clock: a file added just after the stat could
# otherwise leave the folder's time as it was).
_SETTLED_NS = 200_000_000

_order = threading.Lock()
_last_ns = 0
# Folder -> its modification time when this process last found it empty.
_seen_empty: dict[str, int] = {}


@dataclass(frozen=True)
class Spooled:
    path: Path
    sid: str
    from_number: str
    to_number: str
    body: str
    received_at: datetime


def directory() -> Path:
    return Path(settings.SPOOL_DIR)


def _arrival_ns(received_at: datetime) -> int:
    global _last_ns
    ns = (received_at - _EPOCH) // timedelta(microseconds=1) * 1000
    with _order:
        _last_ns = max(ns, _last_ns + 1)
        return _last_ns


def _safe(sid: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", sid)[:64]


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def keep(sid: str, from_number: str, to_number: str, body: str, received_at: datetime) -> Path:
    """Write one SMS to the spool, durably; its path."""
    folder = directory()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    name = f"{_arrival_ns(received_at):020d}-{_safe(sid) or uuid.uuid4().hex}{SUFFIX}"
    data = json.dumps(
        {
            "sid": sid,
            "from": from_number,
            "to": to_number,
            "body": body,
            "received_at": received_at.isoformat(),
        }
    ).encode()
    temporary = folder / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        path = folder / name
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(folder)
    return path


def may_hold_messages() -> bool:
    """False when the spool is known to be empty: one stat, no listing."""
    folder = str(directory())
    try:
        changed = os.stat(folder).st_mtime_ns
    except FileNotFoundError:
        return False
    return _seen_empty.get(folder) != changed


def pending() -> list[Path]:
    """The spooled messages, oldest first."""
    folder = directory()
    try:
        changed = os.stat(folder).st_mtime_ns
        with os.scandir(folder) as entries:
            names = sorted(e.name for e in entries if e.name.endswith(SUFFIX) and e.is_file())
    except FileNotFoundError:
        return []
    if not names and time.time_ns() - changed > _SETTLED_NS:
        _seen_empty[str(folder)] = changed
    return [folder / name for name in names]


def read(path: Path) -> Spooled:
    """One spooled message; ValueError when the file is not one."""
    try:
        data = json.loads(path.read_bytes())
        return Spooled(
            path=path,
            sid=str(data["sid"]),
            from_number=str(data["from"]),
            to_number=str(data["to"]),
            body=str(data["body"]),
            received_at=datetime.fromisoformat(data["received_at"]),
        )
    except (KeyError, TypeError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path.name} is not a spooled SMS: {error}") from error


def remove(path: Path) -> None:
    path.unlink(missing_ok=True)


def reject(path: Path) -> Path:
    """Set a message that cannot be taken in aside (kept, out of the way); its new path."""
    folder = directory() / REJECTED
    folder.mkdir(mode=0o700, exist_ok=True)
    moved = folder / path.name
    os.replace(path, moved)
    return moved


def rejected() -> list[Path]:
    folder = directory() / REJECTED
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


@contextmanager
def locked(wait: bool) -> Iterator[bool]:
    """Hold the spool's lock (True), or yield False when there is no spool, or when
    another holds it and `wait` is False."""
    folder = directory()
    if not folder.is_dir():
        yield False
        return
    # The folder itself is locked: a lock file would change the folder's time.
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # releases the lock
