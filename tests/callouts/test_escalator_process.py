"""The escalator as a real process: it ticks on through database errors, stops on SIGTERM."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_it_survives_database_errors_and_stops_on_sigterm(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # An empty database: every tick fails with "no such table".
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "STANDBY_VAR_DIR": str(tmp_path),
        "LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "escalator", "--interval", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(3)
        assert process.poll() is None, process.communicate()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0
    assert "escalator: stopped" in out
    assert err.count("escalator tick failed") >= 2
