import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.core.processes import Child, Supervisor
from campusconf.demo.credentials import environment
from campusconf.demo.sample import (
    load_sample_data,
    paid_elsewhere_holder,
    personal_account_holder,
    personal_accounts,
)

SANDBOX_PORT = 8100
SMTP_PORT = 1025
MAILBOX_PORT = 8025
WEB_PORT = 8000
ADMIN_PASSWORD = "campusconf-demo"  # noqa: S105 - the demo's published sample sign-in


@contextmanager
def mailbox(var: Path, smtp_port: int = SMTP_PORT, web_port: int = MAILBOX_PORT) -> Iterator[Child]:
    """maildev, keeping the members' mails in a folder of var/ that is gone when it stops.

    Left to itself, maildev writes every mail under the system's temporary folder and
    leaves it there after Ctrl-C. A folder a hard kill left behind goes at the next start.
    """
    for stale in var.glob("mailbox-*"):
        shutil.rmtree(stale, ignore_errors=True)
    maildev = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "maildev"
    if not maildev.exists():
        raise CommandError("The demo mailbox is not installed: run 'make demo' (it runs npm ci).")
    with tempfile.TemporaryDirectory(dir=var, prefix="mailbox-") as folder:
        yield Child(
            "mailbox",
            [
                str(maildev),
                "--ip",
                "127.0.0.1",
                "--smtp",
                str(smtp_port),
                "--web",
                str(web_port),
                "--mail-directory",
                folder,
            ],
        )


class Command(BaseCommand):
    help = (
        "Run the whole demo on 127.0.0.1: CampusConf, a worker, the vendor sandbox and "
        "the mailbox. Ctrl-C stops everything."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-mailbox", action="store_true", help="do not start maildev")

    def handle(self, *args: Any, **options: Any) -> None:
        var = Path(settings.VAR_DIR)
        var.mkdir(parents=True, exist_ok=True)
        sandbox_url = f"http://127.0.0.1:{SANDBOX_PORT}"
        sandbox_db = var / "sandbox.sqlite3"
        credentials_file = var / "sandbox.json"
        sandbox_cli = [sys.executable, "-m", "vendor_sandbox.cli"]

        self.stdout.write("Preparing the database and the sample university…")
        call_command("migrate", interactive=False, verbosity=0)
        subprocess.run(
            [
                *sandbox_cli,
                "init-credentials",
                "--db",
                str(sandbox_db),
                "--public-url",
                sandbox_url,
                "--write",
                str(credentials_file),
            ],
            check=True,
        )
        credentials = json.loads(credentials_file.read_text())
        load_sample_data(sandbox_url, ADMIN_PASSWORD, credentials)
        # Before the sandbox serves: S7 needs a personal account already at the vendor.
        subprocess.run(
            [
                *sandbox_cli,
                "seed-personal",
                "--db",
                str(sandbox_db),
                json.dumps(personal_accounts()),
            ],
            check=True,
        )

        sandbox_env = {
            "SANDBOX_SMTP_HOST": "127.0.0.1",
            "SANDBOX_SMTP_PORT": str(SMTP_PORT),
            "SANDBOX_PUBLIC_URL": sandbox_url,
            "SANDBOX_WEBHOOK_URL": f"http://127.0.0.1:{WEB_PORT}/webhooks/zoom",
        }
        app_env = {
            **environment(credentials),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(SMTP_PORT),
            "CAMPUSCONF_DEV_LOGIN": "1",
            # Webex sends no webhooks: in the demo, look at the vendor every minute so an
            # activation shows in the portal soon (production default: every 30 minutes).
            "CAMPUSCONF_ENGINE_RECONCILE_MINUTES": "1",
        }
        campusconf = [sys.executable, "-m", "campusconf.cli"]
        children = [
            Child(
                "sandbox",
                [*sandbox_cli, "serve", "--port", str(SANDBOX_PORT), "--db", str(sandbox_db)],
                sandbox_env,
            ),
            Child("worker", [*campusconf, "worker", "--processes", "1"], app_env),
            Child(
                "web",
                [*campusconf, "serve", "--bind", f"127.0.0.1:{WEB_PORT}", "--quiet-static"],
                app_env,
            ),
        ]
        with ExitStack() as stack:
            if not options["no_mailbox"]:
                children.insert(0, stack.enter_context(mailbox(var)))
            self.stdout.write(self.banner(credentials))
            code = Supervisor(children).run()
        sys.exit(code)

    def banner(self, credentials: dict[str, Any]) -> str:
        row, paid = personal_account_holder(), paid_elsewhere_holder()
        holder = (
            f"{row['family_name_ja']} {row['given_name_ja']} "
            f"({row['given_name_latin']} {row['family_name_latin']}, {row['common_id']})"
        )
        elsewhere = f"{paid['given_name_latin']} {paid['family_name_latin']} ({paid['common_id']})"
        return f"""
CampusConf demo
  Portal and home page   http://127.0.0.1:{WEB_PORT}/
  Sign in as a member    http://127.0.0.1:{WEB_PORT}/dev-login/
  Back office (staff)    http://127.0.0.1:{WEB_PORT}/staff/   "Development sign-in as IT staff",
                         then any sample member
  Django admin           http://127.0.0.1:{WEB_PORT}/admin/   sign in as admin / {ADMIN_PASSWORD}
                         and the one-time code from: uv run campusconf demo-totp
  Vendor sandbox         http://127.0.0.1:{SANDBOX_PORT}/   admin token in var/sandbox.json
  Mailbox                http://127.0.0.1:{MAILBOX_PORT}/
  Personal accounts      {holder} already holds personal
                         Webex and Zoom accounts: sign in as them and apply, to see
                         Webex's "Convert to Enterprise Account" and Zoom's join request;
                         {elsewhere}'s address holds a paid Zoom account
                         elsewhere: their Zoom application waits for them to release it
  In another shell, find uv first:  export PATH="$HOME/.local/bin:$PATH"
  Apply on a member's behalf:  uv run campusconf provision 2600000000 webex
  Check a service against its vendor:  uv run campusconf vendor-check zoom
  Let 16 days pass (invitations expire):  uv run campusconf demo-clock --advance-days 16
Press Ctrl-C to stop everything.
"""
