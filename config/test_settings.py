"""Settings for the test suite: tasks run in-process so that a test sees their effect."""

import os

os.environ.setdefault("Q_SYNC", "true")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Each test starts from an empty throttle; never clear a shared Redis from a test run.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# WhiteNoise warns on every request when STATIC_ROOT is missing (collectstatic makes it).
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # noqa: F405

# On SQLite, test against a file as production does, not Django's default
# in-memory database: that one shares a cache between threads with table-level
# locks, so a browser test's polling request could fail with "database table is
# locked" while the server thread writes, where a WAL file simply waits.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"]["NAME"] = str(  # noqa: F405
        VAR_DIR / f"test-{os.getpid()}.sqlite3"  # noqa: F405
    )

# No background thread retrying the spool: a test takes it in when it means to. Each
# test gets a spool of its own (tests/conftest.py).
SPOOL_RETRY_SECONDS = 0
# Straight to the spool after a database failure only where a test asks for it.
SPOOL_DIRECT_SECONDS = 0

# seed_demo's year of history takes ~20 s on SQLite: the suite seeds three weeks of it.
DEMO_HISTORY_DAYS = 21

# Off whatever the shell says: the tests about two-factor login turn it on themselves.
REQUIRE_TWO_FACTOR = False

# As in production, a process has no more threads than its pool has connections: the
# concurrency tests run 30 at once (30 simultaneous acceptances), where a pool of 10 kept
# 20 waiting, and on a slow machine some waited past the pool's 3 s and failed.
if "pool" in DATABASES["default"].get("OPTIONS", {}):  # noqa: F405
    DATABASES["default"]["OPTIONS"]["pool"]["max_size"] = 40  # noqa: F405
