"""Settings for the test suite: tasks run in-process so that a test sees their effect."""

import os

os.environ.setdefault("Q_SYNC", "true")

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
