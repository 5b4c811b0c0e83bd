"""``campusconf scim-token create|revoke <client-name>``: SCIM bearer tokens."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from campusconf.audit.cli import record_cli
from campusconf.directory.models import ScimClient
from campusconf.directory.tokens import create_scim_client, revoke_scim_client


class Command(BaseCommand):
    help = "Create or revoke the bearer token of a SCIM client."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("client_name")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["client_name"]
        if options["action"] == "create":
            try:
                with transaction.atomic():
                    client, token = create_scim_client(name)
                    record_cli("directory.scim_client_create", client, f"scim-token create {name}")
            except IntegrityError as error:
                raise CommandError(
                    _("A SCIM client named %(name)s already exists.") % {"name": name}
                ) from error
            self.stdout.write(
                _("SCIM client %(name)s created. Its token, shown only this once:") % {"name": name}
            )
            self.stdout.write(token)  # alone on the last line, for scripts
            return
        try:
            with transaction.atomic():
                client = revoke_scim_client(name)
                record_cli("directory.scim_client_revoke", client, f"scim-token revoke {name}")
        except ScimClient.DoesNotExist as error:
            raise CommandError(_("No SCIM client named %(name)s.") % {"name": name}) from error
        self.stdout.write(_("The token of SCIM client %(name)s is revoked.") % {"name": name})
