"""``vendor-sandbox``: serve the emulator, or write the credentials file for the demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


def _setup(db: str | None, public_url: str | None) -> None:
    # conf.py reads the environment once, at import, so set it before Django starts.
    if db:
        os.environ["SANDBOX_DB"] = db
    if public_url and "SANDBOX_PUBLIC_URL" not in os.environ:
        os.environ["SANDBOX_PUBLIC_URL"] = public_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "vendor_sandbox.settings"
    import django

    django.setup()
    from django.core.management import call_command

    from vendor_sandbox.conf import CONFIG

    CONFIG.db_path.parent.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0, interactive=False)


def _credentials() -> dict[str, object]:
    from vendor_sandbox import credentials

    return credentials.ensure()


def cmd_serve(args: argparse.Namespace) -> None:
    _setup(args.db, f"http://{args.host}:{args.port}")
    _credentials()
    from django.db import connections

    from vendor_sandbox.conf import CONFIG
    from vendor_sandbox.server import serve

    connections.close_all()  # workers are forked; each opens its own connection
    print(f"vendor sandbox on http://{args.host}:{args.port}/ (db {CONFIG.db_path})", flush=True)
    serve(args.host, args.port, args.workers or CONFIG.workers, args.threads or CONFIG.threads)


def cmd_init_credentials(args: argparse.Namespace) -> None:
    _setup(args.db, args.public_url)
    data = _credentials()
    out = Path(args.write)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {out}")


def cmd_seed_personal(args: argparse.Namespace) -> None:
    """Seed personal accounts before the server starts (the demo's S7 walk-through)."""
    _setup(args.db, None)
    from vendor_sandbox.admin import seed_personal_account
    from vendor_sandbox.models import PersonalAccount, WebexPerson, ZoomUser

    organisation = {"webex": WebexPerson, "zoom": ZoomUser}
    for item in json.loads(args.accounts):
        vendor, email = item["vendor"], str(item["email"]).strip().lower()
        # Run again on the same database, leave what the person has done since alone:
        # a converted account is an organisation user now, not a personal one to re-seed.
        if PersonalAccount.objects.filter(vendor=vendor, email=email).exists() or (
            vendor in organisation and organisation[vendor].objects.filter(email=email).exists()
        ):
            print(f"personal {vendor} account {email}: left as it is")
            continue
        seed_personal_account(item)
        print(f"personal {vendor} account {email}: seeded")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vendor-sandbox", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="migrate the sandbox DB, then serve the emulator")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8100)
    serve.add_argument("--db", help="SQLite file (default $SANDBOX_DB or var/sandbox.sqlite3)")
    serve.add_argument("--workers", type=int, default=0)
    serve.add_argument("--threads", type=int, default=0)
    serve.set_defaults(func=cmd_serve)
    init = sub.add_parser("init-credentials", help="write the vendor credentials as JSON")
    init.add_argument("--write", default="var/sandbox.json")
    init.add_argument("--db")
    init.add_argument(
        "--public-url",
        default="http://127.0.0.1:8100",
        help="base URL the sandbox is served at ($SANDBOX_PUBLIC_URL wins)",
    )
    init.set_defaults(func=cmd_init_credentials)
    seed = sub.add_parser("seed-personal", help="create personal accounts (JSON list)")
    seed.add_argument("accounts", help='[{"vendor": "webex", "email": "…", "display_name": "…"}]')
    seed.add_argument("--db")
    seed.set_defaults(func=cmd_seed_personal)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main(sys.argv[1:])
