"""Django settings of the vendor sandbox: its own project, its own SQLite file."""

from __future__ import annotations

import hashlib

from vendor_sandbox.conf import CONFIG

DEBUG = False
ALLOWED_HOSTS = ["*"]  # a local emulator reached as 127.0.0.1, localhost or a test host name
# Sessions only carry who is signed in to the emulated vendor pages; the key is derived
# from the DB path so every worker process agrees on it without another file to manage.
SECRET_KEY = hashlib.sha256(f"vendor-sandbox:{CONFIG.db_path}".encode()).hexdigest()
ROOT_URLCONF = "vendor_sandbox.urls"
WSGI_APPLICATION = "vendor_sandbox.wsgi.application"
INSTALLED_APPS = ["vendor_sandbox"]
# The API hot path runs no middleware but sessions (lazy: untouched sessions cost nothing);
# the HTML forms are protected by csrf_protect on each page view instead.
MIDDLEWARE = ["django.contrib.sessions.middleware.SessionMiddleware"]
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_NAME = "sandbox_session"
CSRF_COOKIE_NAME = "sandbox_csrftoken"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(CONFIG.db_path),
        "CONN_MAX_AGE": None,
        "OPTIONS": {
            # WAL lets readers and one writer work at once across the worker processes;
            # synchronous=NORMAL is durable enough for an emulator and much faster.
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=20000"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher"]
DATA_UPLOAD_MAX_MEMORY_SIZE = CONFIG.max_body_bytes
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"vendor_sandbox": {"handlers": ["console"], "level": "INFO"}},
}
