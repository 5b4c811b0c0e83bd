import os
import re
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.core.access_log import QUIET_PREFIX_ENV

# A Unix socket's path must fit in sockaddr_un (108 bytes on Linux, with its NUL).
MAX_SOCKET_PATH = 100


def control_socket_for(bind: str) -> Path:
    """This instance's own gunicorn control socket, named after its bind address.

    gunicorn's default (``~/.gunicorn/gunicorn.ctl``) is one path for every instance
    a user runs: each new one replaces the socket, and the earlier instances can no
    longer be reached. Two instances on one machine never share a bind address.
    """
    name = re.sub(r"[^A-Za-z0-9.]+", "-", bind).strip("-")
    return Path(settings.VAR_DIR) / "run" / f"gunicorn-{name}.ctl"


class Command(BaseCommand):
    help = "Serve the web application (portal, back office, API) with gunicorn."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("CAMPUSCONF_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument("--threads", type=int, default=4)
        parser.add_argument(
            "--quiet-static",
            action="store_true",
            help="leave static files served without error out of the access log",
        )
        sockets = parser.add_mutually_exclusive_group()
        sockets.add_argument(
            "--control-socket",
            type=Path,
            help="gunicorn's control socket (default: var/run/gunicorn-<bind>.ctl)",
        )
        sockets.add_argument(
            "--no-control-socket", action="store_true", help="run without a control socket"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "campusconf.wsgi:application",
            "--bind",
            options["bind"],
            "--workers",
            str(options["workers"]),
            "--threads",
            str(options["threads"]),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
            # The proxies whose X-Forwarded-Proto gunicorn believes are the ones whose
            # X-Forwarded-For the site believes (campusconf.core.middleware.forwarded).
            "--forwarded-allow-ips",
            ",".join(settings.CAMPUSCONF_TRUSTED_PROXIES),
            *self._control_socket(options),
        ]
        if options["quiet_static"]:
            os.environ[QUIET_PREFIX_ENV] = settings.STATIC_URL
            argv += ["--logger-class", "campusconf.core.access_log.QuietStaticLogger"]
        # Replace this process, so signals reach gunicorn's master directly.
        os.execv(sys.executable, argv)  # noqa: S606 - fixed argv, no shell

    def _control_socket(self, options: dict[str, Any]) -> list[str]:
        if options["no_control_socket"]:
            return ["--no-control-socket"]
        path: Path = options["control_socket"] or control_socket_for(options["bind"])
        path = path.resolve()
        if len(os.fsencode(path)) > MAX_SOCKET_PATH:
            raise CommandError(
                f"the control socket path {path} is too long for a Unix socket; "
                "give a shorter one with --control-socket, or --no-control-socket"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return ["--control-socket", str(path)]
