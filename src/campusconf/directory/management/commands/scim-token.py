"""``campusconf scim-token create <client-name> --scope read,write[,deactivate]`` and
``campusconf scim-token revoke <client-name>``: SCIM bearer tokens and their rights."""

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from campusconf.audit.cli import record_cli
from campusconf.directory.models import ScimClient
from campusconf.directory.tokens import SCOPES, BadScopes, create_scim_client, revoke_scim_client


class Command(BaseCommand):
    help = "Create or revoke the bearer token of a SCIM client."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("client_name")
        parser.add_argument(
            "--scope",
            default="",
            help="create: the token's rights, comma-separated, among "
            f"{', '.join(SCOPES)} (deactivate needs write), e.g. read,write",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["client_name"]
        if options["action"] == "create":
            if not options["scope"]:
                raise CommandError(
                    _("Say what the token may do: --scope with %(known)s, e.g. --scope read,write")
                    % {"known": ", ".join(SCOPES)}
                )
            try:
                with transaction.atomic():
                    client, token = create_scim_client(name, options["scope"].split(","))
                    record_cli(
                        "directory.scim_client_create",
                        client,
                        f"scim-token create {name} --scope {','.join(client.scopes)}",
                    )
            except BadScopes as error:
                raise CommandError(str(error)) from error
            except IntegrityError as error:
                raise CommandError(
                    _("A SCIM client named %(name)s already exists.") % {"name": name}
                ) from error
            self.stdout.write(
                _(
                    "SCIM client %(name)s created with the rights %(scopes)s. Its token, shown only this once:"
                )
                % {"name": name, "scopes": ", ".join(client.scopes)}
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
