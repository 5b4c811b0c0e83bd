"""Production: every secret from the environment, HTTPS everywhere.

``campusconf check --deploy`` reports nothing in this mode.
"""

import os

from django.core.exceptions import ImproperlyConfigured

from campusconf.settings.environment import database_from_env, env_bool

from .base import *  # noqa: F403 - a settings mode extends the base on purpose

DEBUG = False
# On PostgreSQL a statement running over a minute is cancelled (DATABASE_STATEMENT_TIMEOUT_MS).
DATABASES = {"default": database_from_env(VAR_DIR, statement_timeout_ms=60_000)}  # noqa: F405
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set in the environment (50 or more random characters) "
        "in production; generate one with: python -c "
        "'import secrets; print(secrets.token_urlsafe(64))'"
    )

CAMPUSCONF_DEV_LOGIN = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
SAML_SESSION_COOKIE_SAMESITE = "None"  # the IdP posts back cross-site; Secure is set
CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
