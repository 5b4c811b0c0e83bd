"""Reconcile of N vendor users that are all in step: time, and database writes.

    uv run python bench/engine_reconcile.py --users 100000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test uv run python bench/engine_reconcile.py

The sandbox's Zoom account is filled directly through the sandbox's own models (the
API would take minutes to create 100,000 users), the engine's database with members
and active accounts that match them. Then one reconcile pass runs, timed, with every
SQL statement it sends counted; writes must be 0 apart from the pass's one record.
"""

from __future__ import annotations

import argparse
import datetime
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.engine_campaign import database_url, drop_database  # noqa: E402
from tests.provisioning.sandbox import (  # noqa: E402
    connector_settings,
    running_sandbox,
    vendor_env,
)

SEED = """
import datetime, django
django.setup()
from vendor_sandbox.models import ZoomAccount, ZoomUser
account = ZoomAccount.objects.first()
now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
n = int({n})
for start in range(0, n, 5000):
    ZoomUser.objects.bulk_create(
        ZoomUser(user_id=f"zu{{i:07d}}", account=account, email=f"{{6000000000 + i}}@g.ecc.example.ac.jp",
                 first_name="M", last_name=f"{{i}}", display_name=f"M {{i}}", type=2,
                 status="active", verified=1, login_types=[100], created_at=now,
                 visible_at=now, action="create")
        for i in range(start, min(n, start + 5000))
    )
"""


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=100_000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="engine-reconcile-"))
    base = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    try:
        with running_sandbox(tmp, SANDBOX_LIMITS="0", SANDBOX_WORKERS="2") as sandbox:
            creds = sandbox.credentials()
            seed_env = {
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "vendor_sandbox.settings",
                "SANDBOX_DB": str(tmp / "sandbox.sqlite3"),
            }
            t = time.monotonic()
            code = SEED.format(n=args.users)
            subprocess.run([sys.executable, "-c", code], env=seed_env, check=True)
            seeded = time.monotonic() - t
            env = {
                **vendor_env(creds),
                "DJANGO_SETTINGS_MODULE": "campusconf.settings.test",
                "DATABASE_URL": db_url,
                "CAMPUSCONF_ENGINE_RATE_LIMITS": "0",
                "LOG_LEVEL": "WARNING",
            }
            os.environ.update(env)
            subprocess.run(
                [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"],
                env=os.environ.copy(),
                check=True,
            )
            import django

            django.setup()
            return run(args.users, creds, seeded)
    finally:
        drop_database(base, pg_name)


def run(n: int, creds: dict[str, object], seeded: float) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from campusconf.accounts.models import Account
    from campusconf.members.models import Member, MemberAddress
    from campusconf.provisioning.reconcile import run_pass
    from campusconf.services.models import Service

    settings = connector_settings("zoom", creds, timeout_seconds=60)
    service = Service.objects.create(
        slug="zoom",
        vendor="zoom",
        name_ja="zoom",
        name_en="zoom",
        plan_name="bench",
        max_participants=300,
        invitation_validity_days=30,
        eligible_roles="student",
        connector_settings=settings,
    )
    t = time.monotonic()
    for start in range(0, n, 5000):
        ids = range(start, min(n, start + 5000))
        members = Member.objects.bulk_create(
            Member(
                common_id=f"{6000000000 + i}",
                family_name_latin=f"{i}",
                given_name_latin="M",
                roles="student",
                university_account_created_on=datetime.date(2020, 4, 1),
            )
            for i in ids
        )
        MemberAddress.objects.bulk_create(
            MemberAddress(member=m, address=f"{m.common_id}@g.ecc.example.ac.jp", is_primary=True)
            for m in members
        )
        Account.objects.bulk_create(
            Account(
                member=m,
                service=service,
                state="active",
                observed_state="active",
                vendor_user_id=f"zu{i:07d}",
                vendor_address=f"{m.common_id}@g.ecc.example.ac.jp",
                observed_licensed=True,
                observed_login_type="zoom",
            )
            for i, m in zip(ids, members, strict=True)
        )
    loaded = time.monotonic() - t
    with CaptureQueriesContext(connection) as queries:
        t = time.monotonic()
        record = run_pass(service)
        elapsed = time.monotonic() - t
    writes = [
        q["sql"] for q in queries if q["sql"].split()[0].upper() in {"INSERT", "UPDATE", "DELETE"}
    ]
    account_writes = [w for w in writes if "reconcilepass" not in w]
    if account_writes:
        print("first write:", account_writes[0][:300])
    rows = [
        ("database", connection.vendor),
        ("vendor users", n),
        ("seeding sandbox / engine DB (s)", f"{seeded:.1f} / {loaded:.1f}"),
        ("reconcile pass (s)", f"{elapsed:.1f}"),
        ("users seen", record.seen),
        ("changes", record.changes or "none"),
        ("SQL statements", len(queries)),
        ("writes (all)", len(writes)),
        ("writes other than the pass record", len(account_writes)),
        (
            "peak RSS of this process (MB)",
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        ),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    return 0 if not account_writes and record.seen == n else 1


if __name__ == "__main__":
    sys.exit(main())
