"""Directory benchmark: SCIM users created per second by one client, and filtered
searches among N users.

Serves /scim/v2 from Django's threaded WSGI server on 127.0.0.1 over a throw-away
database (an SQLite file in a temporary directory, or ``test_<name>`` on the server
of DATABASE_URL), fills it with N SCIM users, then times one client over HTTP:

    uv run python bench/directory_scim.py [--users 100000] [--creates 1000]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench uv run python bench/directory_scim.py
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


def payload(cid: str) -> dict[str, object]:
    return {
        "schemas": [USER],
        "userName": f"{cid}@sso.example.ac.jp",
        "externalId": f"ext-{cid}",
        "name": {"familyName": "Yamada", "givenName": "Hanako"},
        "displayName": "山田 花子",
        "emails": [{"value": f"{cid}@g.ecc.example.ac.jp", "primary": True, "type": "work"}],
        "roles": [{"value": "student"}],
        "active": True,
    }


def fill(users: int) -> None:
    """N SCIM users written straight into the table: the setup, not what is measured."""
    from campusconf.directory.models import ScimUser

    batch = []
    for n in range(users):
        cid = f"{5000000000 + n:010d}"
        batch.append(
            ScimUser(
                id=uuid.uuid4(),
                user_name=f"{cid}@sso.example.ac.jp",
                external_id=f"ext-{cid}",
                email_index=f" {cid}@g.ecc.example.ac.jp ",
                display_name="山田 花子",
                resource=payload(cid),
                pending_reason="bench",
            )
        )
        if len(batch) == 5000:
            ScimUser.objects.bulk_create(batch)
            batch = []
    ScimUser.objects.bulk_create(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--creates", type=int, default=1000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="directory-scim-bench-"))
    os.environ["CAMPUSCONF_VAR_DIR"] = str(tmp)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "campusconf.settings.test")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django
    from django.conf import settings

    settings.DATABASES["default"]["TEST"] = {"NAME": str(tmp / "bench.sqlite3")}
    django.setup()
    import httpx
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    from campusconf.directory.tokens import create_scim_client

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    old = setup_databases(verbosity=0, interactive=False, keepdb=False, serialized_aliases=set())
    rows: list[tuple[str, str]] = []
    try:
        started = time.perf_counter()
        fill(args.users)
        rows.append(
            (f"setup: {args.users:,} users written", f"{time.perf_counter() - started:.1f} s")
        )
        _client, token = create_scim_client("bench", ["read", "write", "deactivate"])
        connection.close()  # the server threads open their own connections
        server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler)
        server.set_app(get_wsgi_application())
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}/scim/v2"
        with httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as http:
            http.get("/ServiceProviderConfig")  # warm-up: imports, URL resolver
            started = time.perf_counter()
            for n in range(args.creates):
                response = http.post("/Users", json=payload(f"{7000000000 + n:010d}"))
                assert response.status_code == 201, response.text
            elapsed = time.perf_counter() - started
            rows.append(
                (
                    f"POST /Users x {args.creates} (one client)",
                    f"{args.creates / elapsed:.0f} users/s",
                )
            )
            since = (
                datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
            ).isoformat()
            middle = f"{5000000000 + args.users // 2:010d}"
            for label, expression in (
                ("userName eq", f'userName eq "{middle}@sso.example.ac.jp"'),
                ("externalId eq", f'externalId eq "ext-{middle}"'),
                ("emails.value eq", f'emails.value eq "{middle}@g.ecc.example.ac.jp"'),
                ("userName sw, count=100", 'userName sw "50000"'),
                ("meta.lastModified gt (recent)", f'meta.lastModified gt "{since}"'),
                ("active eq true, count=100", "active eq true"),
            ):
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    response = http.get(f"/Users?count=100&filter={quote(expression)}")
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text
                total = response.json()["totalResults"]
                rows.append(
                    (
                        f"search {label}",
                        f"{statistics.median(times) * 1000:.0f} ms ({total:,} found)",
                    )
                )
        server.shutdown()
    finally:
        connection.close()
        teardown_databases(old, verbosity=0)
    print(f"engine: {connection.vendor}, users: {args.users:,}")
    for label, value in rows:
        print(f"{label:<42} {value}")


if __name__ == "__main__":
    main()
