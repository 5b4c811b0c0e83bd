from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP

from campusconf.signin.passwords import totp_device


class Command(BaseCommand):
    help = (
        "Demo tool: print the demo administrator's current one-time code, as an "
        "authenticator app would show it (development only)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError(
                "demo-totp reads a one-time-code secret; it runs only with the development "
                "settings (DEBUG on), never on a real installation."
            )
        admin = get_user_model().objects.filter(username="admin").first()
        device = totp_device(admin) if admin is not None else None
        if device is None:
            raise CommandError("The demo administrator has no device yet: start 'make demo' first.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
