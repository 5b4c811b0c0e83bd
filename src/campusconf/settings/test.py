"""``make test``: like dev, but mail stays in memory unless a test asks for SMTP."""

import os

from campusconf.settings.environment import env_bool

from .base import *  # noqa: F403 - a settings mode extends the base on purpose

DEBUG = False
SECRET_KEY = "test-only-key-campusconf"  # noqa: S105 - never used outside the test run
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
WHITENOISE_USE_FINDERS = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CAMPUSCONF_DEV_LOGIN = False
CAMPUSCONF_METRICS_OPEN = env_bool("CAMPUSCONF_METRICS_OPEN", True)

STATIC_ROOT = None  # type: ignore[assignment]  # nothing is collected in tests

# Concurrent test runs on one PostgreSQL server each get their own test database.
if os.environ.get("CAMPUSCONF_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["CAMPUSCONF_TEST_DB_NAME"]}  # noqa: F405
