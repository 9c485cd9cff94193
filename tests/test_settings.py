"""Settings come from the environment and refuse unsafe production values loudly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOOD_PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-Material-0123456789-abcdefghij-ABCDEFGHIJ-klmnop",
    "ALLOWED_HOSTS": "standby.example.police.uk",
    "PUBLIC_BASE_URL": "https://standby.example.police.uk",
    "SMS_GATEWAY": "twilio",
    "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_FROM_NUMBER": "+447700900999",
}

# The test run's own variables, which a production process would not have.
LOCAL_ONLY = {"DATABASE_URL", "Q_SYNC", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def load_settings(code=None, **env):
    """Import the settings in a fresh interpreter; return (exit code, output)."""
    ours = set(GOOD_PRODUCTION) | {"Q_SYNC", "DATABASE_URL", "REDIS_URL", "ALLOW_SIMULATOR"}
    ours |= {"SPOOL_DIR", "DB_POOL_TIMEOUT", "REQUIRE_TWO_FACTOR"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "config.settings"
    clean["STANDBY_VAR_DIR"] = str(ROOT / "var" / "settings-test")
    code = (
        code or "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_it_runs_locally_with_nothing_set():
    code, out = load_settings()
    assert code == 0, out
    assert "sqlite3" in out


def test_it_accepts_a_complete_production_configuration():
    code, out = load_settings(
        **GOOD_PRODUCTION, DATABASE_URL="postgres://standby@db.internal:5432/standby"
    )
    assert code == 0, out
    assert "postgresql" in out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": " " * 60}, "SECRET_KEY must be set"),
        ({"SECRET_KEY": "x" * 60}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": " padded-0123456789-abcdefghij-ABCDEFGHIJ-klmnopqrstu "}, "too weak"),
        ({"ALLOWED_HOSTS": "*"}, "ALLOWED_HOSTS=* accepts any Host"),
        ({"ALLOWED_HOSTS": "standby.example.police.uk,*"}, "ALLOWED_HOSTS=* accepts any Host"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS must be set"),
        ({"PUBLIC_BASE_URL": "http://standby.example.police.uk"}, "must use https"),
        ({"PUBLIC_BASE_URL": "standby.example"}, "must start with http"),
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"TWILIO_AUTH_TOKEN": ""}, "needs TWILIO_AUTH_TOKEN"),
        ({"SMS_GATEWAY": "carrier-pigeon"}, "SMS_GATEWAY must be"),
        ({"SMS_GATEWAY": "simulator"}, "no callout would reach a phone"),
        ({"DATABASE_URL": "mysql://root@localhost/standby"}, "unsupported database"),
        ({"Q_WORKERS": "many"}, "Q_WORKERS must be a whole number"),
    ],
)
def test_it_refuses_unsafe_production_settings(change, message):
    code, out = load_settings(**(GOOD_PRODUCTION | change))
    assert code != 0
    assert "ImproperlyConfigured" in out
    assert message in out


def test_check_deploy_is_clean_with_production_settings():
    env = {k: v for k, v in os.environ.items() if k not in LOCAL_ONLY}
    env.update(GOOD_PRODUCTION)
    env["STANDBY_VAR_DIR"] = str(ROOT / "var" / "settings-test")
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    proc = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_the_pool_checks_each_connection_and_a_request_waits_for_one_only_briefly():
    code, out = load_settings(
        "from django.conf import settings; pool = settings.DATABASES['default']['OPTIONS']['pool'];"
        "print(pool['check'].__module__, pool['check'].__name__, pool['timeout'],"
        " pool['reconnect_timeout'])",
        DATABASE_URL="postgres://standby@db.internal:5432/standby",
    )
    assert code == 0, out
    assert out.split() == ["config.database", "check_connection", "3", "2"]


def test_it_requires_two_factor_login_in_production_unless_told_otherwise():
    show = "from django.conf import settings; print(settings.REQUIRE_TWO_FACTOR)"
    assert load_settings(show, **GOOD_PRODUCTION)[1].split()[-1] == "True"
    assert load_settings(show)[1].split()[-1] == "False"  # local use: DEBUG on
    told = GOOD_PRODUCTION | {"REQUIRE_TWO_FACTOR": "false"}
    assert load_settings(show, **told)[1].split()[-1] == "False"
    assert load_settings(show, REQUIRE_TWO_FACTOR="true")[1].split()[-1] == "True"
    code, out = load_settings(show, REQUIRE_TWO_FACTOR="sometimes")
    assert code != 0 and "REQUIRE_TWO_FACTOR must be true or false" in out


def test_the_spool_lives_under_the_var_dir_unless_told():
    show = "from django.conf import settings; print(settings.SPOOL_DIR)"
    code, out = load_settings(show)
    assert code == 0, out
    assert out.strip() == str(ROOT / "var" / "settings-test" / "spool")
    code, out = load_settings(show, SPOOL_DIR="/srv/standby/spool")
    assert out.strip() == "/srv/standby/spool"


def simulator_key(var_dir):
    env = {k: v for k, v in os.environ.items() if k not in {"TWILIO_AUTH_TOKEN", "SMS_GATEWAY"}}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", STANDBY_VAR_DIR=str(var_dir))
    code = "from django.conf import settings; print(settings.TWILIO_AUTH_TOKEN)"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_it_signs_simulator_webhooks_with_a_random_key_per_installation(tmp_path):
    first = simulator_key(tmp_path / "one")
    assert simulator_key(tmp_path / "one") == first  # every process of one installation
    assert simulator_key(tmp_path / "two") != first  # another installation has its own
    assert len(first) >= 40
    stored = tmp_path / "one" / "simulator-signing-key"
    assert stored.read_text().strip() == first
    assert stored.stat().st_mode & 0o077 == 0  # readable by its owner only
    sources = "".join(p.read_text() for p in (ROOT / "config").glob("*.py"))
    assert first not in sources


def test_log_level_applies_to_djangos_own_loggers_too():
    code = (
        "import django, logging; django.setup(); "
        "print([logging.getLogger(n).isEnabledFor(logging.WARNING) "
        "for n in ('django.request', 'django.security.csrf', 'callouts')])"
    )
    status, output = load_settings(code, LOG_LEVEL="ERROR")
    assert status == 0, output
    assert output.strip().endswith("[False, False, False]")
    status, output = load_settings(code)  # INFO by default: warnings are logged
    assert output.strip().endswith("[True, True, True]")


@pytest.mark.postgres("the connection pool")
@pytest.mark.django_db
def test_a_process_that_used_the_pool_exits_without_waiting_on_its_threads():
    """Left to the pool's __del__ at exit, each of its threads was given 5 s to stop, in
    vain: a command or worker that had served a request took 20 s more to exit."""
    from django.db import connection

    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/postgres"
    code = (
        "import django; django.setup(); from django.test import Client; "
        "print(Client(HTTP_HOST='localhost').get('/healthz/').status_code)"
    )
    status, output = load_settings(code, DATABASE_URL=url)
    assert status == 0, output
    assert "couldn't stop thread" not in output
