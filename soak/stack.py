"""One scenario's running app: a database copied from the template, its own Twilio stand-in,
gunicorn (DEBUG off, as in production), a real `qcluster` (or several, each a worker machine,
with `redis_url`: the queue in Redis) and the `escalator`.

The template database is migrated and seeded once per run (`prepare`); each
scenario gets `CREATE DATABASE ... TEMPLATE`, a second's work. Logs go to
var/soak/logs/<scenario>-<process>.log.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

import psycopg

from bench.twilio_standin import StandIn
from soak import processes
from soak.postgres import free_port
from soak.traffic import AUTH_TOKEN, FROM_NUMBER, PUBLIC, Web

ROOT = processes.ROOT
VAR = ROOT / "var" / "soak"
LOGS = VAR / "logs"
TEMPLATE = "soak_template"
# Stacks running now, so that an interrupted run stops every process it started.
LIVE: set = set()
STOPPING = threading.Event()


def stop_all():
    STOPPING.set()  # a scenario starting in another thread must not launch anything more
    for stack in list(LIVE):
        stack.stop()


def app_env(database_url, standin_url="http://127.0.0.1:9") -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        # As in production: the soak never logs in through the login page (the API's bearer
        # token, Twilio's signed webhooks), which two-factor login leaves alone.
        "REQUIRE_TWO_FACTOR": "true",
        "SECRET_KEY": "soak-secret-key-that-is-long-enough-0123456789-ABCDEFGHIJ",
        # Plain HTTP on loopback: no TLS proxy in front to redirect to.
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PUBLIC_BASE_URL": PUBLIC,
        "SMS_GATEWAY": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": FROM_NUMBER,
        "TWILIO_API_BASE": standin_url,
        "LOG_LEVEL": os.environ.get("SOAK_LOG_LEVEL", "WARNING"),
        "STANDBY_VAR_DIR": str(VAR),
        "Q_SYNC": "false",
    }


def admin(server, sql):
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(sql)


def prepare(server) -> str:
    """Migrate and seed the template database; returns the control room's API token."""
    LOGS.mkdir(parents=True, exist_ok=True)
    admin(server, f'CREATE DATABASE "{TEMPLATE}"')
    env = app_env(server.url(TEMPLATE))
    python = sys.executable
    for command in (["migrate", "--no-input", "-v0"], ["collectstatic", "--no-input", "-v0"]):
        subprocess.run([python, "manage.py", *command], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [python, "-m", "soak.seed"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return seeded.stdout.strip().splitlines()[-1]


class Stack:
    def __init__(self, name, server, token, delay=0.05, redis_url=None, clusters=1, env=None):
        self.name, self.server, self.token = name, server, token
        self.redis_url, self.extra_env = redis_url, env or {}
        # "qcluster", "qcluster-b", ...: each a machine's queue workers.
        self.clusters = ["qcluster", *(f"qcluster-{c}" for c in "bcd"[: clusters - 1])]
        self.processes = ("web", *self.clusters, "escalator")
        self.database = f"soak_{name}"
        self.standin = StandIn(delay=delay)
        self.port = free_port()
        self.web = Web(self.port, token, name)
        self.procs: dict[str, subprocess.Popen] = {}
        self.kills = 0

    @property
    def url(self):
        return self.server.url(self.database)

    def log(self, process):
        return LOGS / f"{self.name}-{process}.log"

    def command(self, process):
        python = [sys.executable]
        if process == "web":
            return [
                *python, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
                "--workers", "2", "--threads", "4", "--worker-class", "gthread",
                "--timeout", "60", "--log-level", "warning",
            ]  # fmt: skip
        return [*python, "manage.py", process.split("-")[0]]

    def start(self):
        admin(self.server, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        admin(self.server, f'CREATE DATABASE "{self.database}" TEMPLATE "{TEMPLATE}"')
        for process in self.processes:
            self.log(process).unlink(missing_ok=True)
        self.standin.start()
        LIVE.add(self)
        self.env = {**app_env(self.url, self.standin.base_url), **self.extra_env}
        if self.redis_url:
            self.env["REDIS_URL"] = self.redis_url
        for process in self.processes:
            self.launch(process)
        if not processes.wait_for(self._web_up, 30):
            raise RuntimeError(f"{self.name}: gunicorn did not come up; see {self.log('web')}")
        for cluster in self.clusters:
            self.wait_for_workers(cluster=cluster)
        return self

    def _web_up(self):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/login/", timeout=2)
            return True
        except OSError:
            return False

    def wait_for_workers(self, timeout=30, cluster="qcluster"):
        leader = self.procs[cluster]
        return processes.wait_for(lambda: processes.queue_workers(leader), timeout)

    def launch(self, process):
        if STOPPING.is_set():
            raise RuntimeError("the soak is stopping")
        self.procs[process] = processes.start(self.command(process), self.env, self.log(process))

    def kill(self, process):
        """SIGKILL to the process and all its children (a machine or container dying)."""
        processes.kill(self.procs[process])
        self.kills += 1

    def restart(self, process):
        processes.stop(self.procs[process], grace=1)
        self.launch(process)

    def kill_a_worker(self) -> bool:
        """SIGKILL one queue worker process; django-q2's sentinel starts another."""
        import random

        workers = processes.queue_workers(self.procs["qcluster"])
        if not workers:
            return False
        os.kill(random.choice(workers), 9)
        self.kills += 1
        return True

    def sql(self, query, params=()):
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def step_due_in(self, incident_id, seconds, wait=True):
        """Bring a calling incident's next step forward (its 1-minute wait would take a minute).

        With `wait`, first wait (up to 10 s) for its first step to have fired, which sets
        the time of the next.
        """
        fired = "SELECT 1 FROM callouts_incident WHERE id = %s AND step_index >= 0"
        if wait:
            processes.wait_for(lambda: self.sql(fired, (incident_id,)), 10)
        self.sql(
            "UPDATE callouts_incident SET next_step_at = now() + make_interval(secs => %s) "
            "WHERE id = %s AND status = 'calling' AND step_index >= 0",
            (seconds, incident_id),
        )

    def tracebacks(self) -> int:
        total = 0
        for process in self.processes:
            path = self.log(process)
            if path.exists():
                total += path.read_text(errors="replace").count("Traceback (most recent call")
        return total

    def failures(self, most: int = 3) -> list[str]:
        """The last `most` logged exceptions, a line each (where, and what was raised)."""
        found = []
        for process in self.processes:
            path = self.log(process)
            if not path.exists():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if "Traceback (most recent call" not in line:
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    found.append(f"{process}: {line[:200]}")
                    continue
                raised = record.get("exception", "").strip().splitlines()[-1:] or [""]
                found.append(f"{process}: {record.get('message', '')[:120]} | {raised[0][:200]}")
        return found[-most:]

    def stop(self):
        LIVE.discard(self)
        for process in self.procs.values():
            processes.stop(process, grace=3)
        self.web.close()
        if self.standin.thread.is_alive():
            self.standin.stop()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def pause(seconds):
    time.sleep(max(0.0, seconds))
