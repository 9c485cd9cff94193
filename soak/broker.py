"""A Redis server of the soak's own (scenario 7's task broker): `redis-server` on a free port,
nothing kept on disk, stopped and its directory removed at the end.

Its own server, as the soak's PostgreSQL is its own: no key of anyone else's Redis is read,
written or flushed, and two runs on one machine cannot meet in it.
"""

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import redis

from soak.postgres import free_port
from soak.processes import wait_for


class Server:
    def __init__(self):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server not found (Debian: apt-get install redis-server)")
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="standby-soak-redis-"))
        self.process = None

    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self):
        with (self.root / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self.root)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        if not wait_for(self._answers, 10, every=0.05):
            raise RuntimeError(f"redis-server did not answer; see {self.root / 'server.log'}")
        return self

    def calls(self, command: str) -> int:
        """How many times a command (e.g. "rpush", how django-q2 queues a task) was run."""
        stats = self.client().info("commandstats")
        return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))

    def close(self):
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
            self.process.kill()
            self.process.wait(5)
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running():
    """A started server, closed (and its directory removed) however the block ends."""
    server = Server()
    try:
        yield server.start()
    finally:
        server.close()
