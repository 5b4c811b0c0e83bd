"""``make demo``: DEBUG on, a fixed development key, everything on 127.0.0.1."""

import os

from campusconf.settings.environment import env_bool

from .base import *  # noqa: F403 - a settings mode extends the base on purpose

DEBUG = True
SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-key-not-for-production-campusconf")
CAMPUSCONF_DEV_LOGIN = env_bool("CAMPUSCONF_DEV_LOGIN", True)
CAMPUSCONF_METRICS_OPEN = env_bool("CAMPUSCONF_METRICS_OPEN", True)
WHITENOISE_USE_FINDERS = True
