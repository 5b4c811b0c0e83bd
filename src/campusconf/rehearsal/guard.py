"""Where a rehearsal may run: it starts a sandbox, makes up members and moves
CampusConf's clock, none of which belongs near a real installation."""

from django.conf import settings

DEVELOPMENT_SETTINGS = frozenset({"campusconf.settings.dev", "campusconf.settings.test"})


def allowed() -> bool:
    return settings.SETTINGS_MODULE in DEVELOPMENT_SETTINGS
