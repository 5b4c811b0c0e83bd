"""``campusconf totp-enrol <username> [--replace]``: the break-glass superuser's second factor."""

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from campusconf.signin.passwords import EnrolmentRefused, enrol_totp


class Command(BaseCommand):
    help = _(
        "Enrol a TOTP one-time-code device for a superuser (the break-glass account), "
        "and print its otpauth:// URI once, for an authenticator app."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--replace", action="store_true", help=_("replace the device already enrolled")
        )

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        try:
            user = model.objects.get(**{model.USERNAME_FIELD: options["username"]})
        except model.DoesNotExist as error:
            raise CommandError(
                _("No user named %(name)s.") % {"name": options["username"]}
            ) from error
        try:
            device = enrol_totp(user, replace=options["replace"])
        except EnrolmentRefused as error:
            raise CommandError(_("Nothing changed: %(why)s.") % {"why": error}) from error
        self.stdout.write(
            _(
                "Enrolled. Add this to the authenticator app (shown only this once); "
                "sign-in then asks for its six-digit code:"
            )
        )
        self.stdout.write(device.config_url)  # alone on the last line, for scripts
