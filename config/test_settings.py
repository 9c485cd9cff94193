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
