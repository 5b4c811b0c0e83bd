"""The ``campusconf`` command: Django's management commands, wherever you stand.

``campusconf demo``, ``campusconf serve``, ``campusconf worker`` and every other
management command (``migrate``, ``check --deploy``, ``createsuperuser`` …).
"""

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campusconf.settings.dev")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["campusconf", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
