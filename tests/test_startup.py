"""A production start that cannot be got wrong: bin/serve, and what the web process refuses."""

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from config import startup
from tests.test_settings import GOOD_PRODUCTION, LOCAL_ONLY

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


def test_it_refuses_to_serve_without_collected_static_files(tmp_path):
    with override_settings(STORAGES=MANIFEST, STATIC_ROOT=tmp_path):
        with pytest.raises(ImproperlyConfigured, match="collectstatic"):
            startup.refuse_unsafe_start()
        (tmp_path / "staticfiles.json").write_text("{}")
        startup.refuse_unsafe_start()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url):
    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_bin_serve_checks_migrates_collects_and_serves(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in LOCAL_ONLY}
    env.update(GOOD_PRODUCTION)
    env.update(
        ALLOWED_HOSTS="127.0.0.1",
        STANDBY_VAR_DIR=str(tmp_path),
        BIND=f"127.0.0.1:{port}",
        WEB_WORKERS="1",
        Q_WORKERS="1",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    server = subprocess.Popen(
        ["bin/serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                status, page = get(f"http://127.0.0.1:{port}/login/")
                break
            except OSError:
                time.sleep(0.5)
        assert status == 200, server.stdout.read() if server.poll() is not None else status
        assert "Log in" in page
        assert (tmp_path / "static" / "staticfiles.json").exists()
        assert (tmp_path / "standby.sqlite3").exists()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(30)
        # Queue workers forked by qcluster may outlive it: nothing of the test may linger.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
