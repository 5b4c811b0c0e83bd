"""The ``campusconf`` command: Django's management commands, wherever you stand.

``campusconf demo``, ``campusconf serve``, ``campusconf worker`` and every other
management command (``migrate``, ``check --deploy``, ``createsuperuser`` …).
"""

import os
import shlex
import sys

# Django's own commands that change who may sign in. Our commands audit their writes
# themselves (campusconf.audit.cli); these are audited here once they have succeeded.
AUDITED_DJANGO_COMMANDS = frozenset({"createsuperuser", "changepassword"})


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campusconf.settings.dev")
    from django.core.management import execute_from_command_line

    args = sys.argv[1:] if argv is None else argv
    execute_from_command_line(["campusconf", *args])
    if args and args[0] in AUDITED_DJANGO_COMMANDS:
        from campusconf.audit.cli import record_cli

        # Passwords are never arguments (asked for, or DJANGO_SUPERUSER_PASSWORD).
        record_cli(f"auth.{args[0]}", None, "campusconf " + shlex.join(args), arguments=args[1:])


if __name__ == "__main__":
    main()
