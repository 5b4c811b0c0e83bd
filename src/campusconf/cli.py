"""The ``campusconf`` command: Django's management commands, wherever you stand.

``campusconf demo``, ``campusconf serve``, ``campusconf worker`` and every other
management command (``migrate``, ``check --deploy``, ``createsuperuser`` …).

In the development settings (the default), a command finds the demo sandbox's
credentials in ``var/sandbox.json`` when the environment lacks them, so the commands the
README shows work from a second shell while ``make demo`` runs. A setting or secret a
service needs and does not have ends the command with one line saying which and how to
set it, never a traceback.
"""

import os
import shlex
import sys

# Django's own commands that change who may sign in. Our commands audit their writes
# themselves (campusconf.audit.cli); these are audited here once they have succeeded.
AUDITED_DJANGO_COMMANDS = frozenset({"createsuperuser", "changepassword"})
DEVELOPMENT = "campusconf.settings.dev"


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", DEVELOPMENT)
    # Imported here, once the settings module is chosen: Django's modules read it.
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from campusconf.connectors.factory import ConnectorConfigError

    args = sys.argv[1:] if argv is None else argv
    development = os.environ["DJANGO_SETTINGS_MODULE"] == DEVELOPMENT
    try:
        if development:
            _demo_credentials()
        if args in ([], ["help"], ["--help"], ["-h"]):
            _overview()
            return
        execute_from_command_line(["campusconf", *args])
    except ImproperlyConfigured as exc:  # a setting the mode needs (SECRET_KEY, …)
        sys.stderr.write(f"campusconf: {exc}\n")
        sys.exit(2)
    except ConnectorConfigError as exc:
        hint = (
            " (in development, `make demo` writes the sandbox's credentials to "
            "var/sandbox.json, where the commands find them)"
            if development
            else ""
        )
        sys.stderr.write(f"campusconf: {exc}{hint}\n")
        sys.exit(2)
    if args and args[0] in AUDITED_DJANGO_COMMANDS:
        # Imported here: the audit's model loads only once the command has set Django up.
        from campusconf.audit.cli import record_cli

        # Passwords are never arguments (asked for, or DJANGO_SUPERUSER_PASSWORD).
        record_cli(f"auth.{args[0]}", None, "campusconf " + shlex.join(args), arguments=args[1:])


def _overview() -> None:
    # Imported here, as every Django import in this module: DJANGO_SETTINGS_MODULE is
    # chosen in main() first.
    import django

    from campusconf.core.command_list import overview

    django.setup()
    sys.stdout.write(overview() + "\n")


def _demo_credentials() -> None:
    # Imported here: settings are read only after main() has chosen the module.
    from django.conf import settings

    from campusconf.demo.credentials import fill_environment

    fill_environment(settings.VAR_DIR)


if __name__ == "__main__":
    main()
