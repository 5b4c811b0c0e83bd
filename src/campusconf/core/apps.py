from typing import Any

from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate


def create_cache_table(using: str = "default", **kwargs: Any) -> None:
    # The shared cache's table is no model's, so no migration makes it: every
    # ``migrate`` (a release, the demo, a test database) makes sure it exists. The
    # signal comes once per app; the command does nothing when the table is there.
    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "campusconf.core"
    label = "core"
    verbose_name = "CampusConf"

    def ready(self) -> None:
        # core has no models, so Django sends it no post_migrate of its own.
        post_migrate.connect(create_cache_table, dispatch_uid="campusconf-cache-table")
