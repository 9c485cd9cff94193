"""The systemd units in deploy/systemd are valid, and start what bin/serve starts."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNITS = ROOT / "deploy" / "systemd"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_the_systemd_units_verify(tmp_path):
    # As installed, but pointing at this checkout (systemd checks the programs exist).
    (tmp_path / "standby.env").write_text("DEBUG=false\n")
    for unit in UNITS.iterdir():
        text = unit.read_text().replace("/srv/standby", str(ROOT))
        (tmp_path / unit.name).write_text(
            text.replace("/etc/standby/standby.env", str(tmp_path / "standby.env"))
        )
    names = sorted(p.name for p in tmp_path.iterdir() if p.suffix in {".service", ".target"})
    proc = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr.strip() == ""


def test_the_units_run_the_three_processes_of_bin_serve():
    commands = " ".join(p.read_text() for p in UNITS.glob("*.service"))
    for process in ("gunicorn config.wsgi", "manage.py qcluster", "manage.py escalator"):
        assert process in commands
        assert process.split()[-1] in (ROOT / "bin" / "serve").read_text()
