"""How soon an activation (or a wrong one, S12) reaches the member's page, at 40,000
members, and what the reads that notice it cost at the vendor (issue #22).

    uv run python bench/detection_latency.py
    uv run python bench/detection_latency.py --members 40000 --hours 6 --per-hour 10 60

A simulated clock drives the engine's real scheduling code against a real database:
every ``WATCH_SECONDS`` of simulated time ``provisioning.engine.watch.run(now=…)`` picks the
due waits of each service within its read allowance, exactly as a worker's schedule
does, over 40,000 accounts per service. The reads it would make are recorded instead of
sent: on Zoom an observe job (one single-user read) per wait, which "sees" an activation
that happened before it after ``JOB_SECONDS`` (a claim and a vendor answer); on Webex
one ``GET /people?id=…`` per 85 waits (``watch_batch``), each activation it shows then
read alone by its observe job (one more read, ``2 * JOB_SECONDS``). The other two
ways an activation is noticed are modelled on their schedules: the reconcile pass, which
lists every user every ``RECONCILE_MINUTES`` (its pages counted), and, for Zoom, the
webhook (recorded at once, acted on by the 2-second ``webhooks`` schedule; a share of
events dropped for good, so that the watch has to catch them). The page then learns it
at the card's next refresh (every ``portal.live.POLL_SECONDS``). Nobody looks at the
portal in this model: a member with the page open is read every
``WATCH_LOOKING_SECONDS`` on top of this, so these figures are the worst case.

The waits: ``--old`` invitations 1 to 30 days old at the start (10 % of them activated
during the run), and ``--per-hour`` new invitations an hour during the run, of which 60 %
are activated after an exponential delay of mean 10 minutes, 25 % 1 to 24 hours later
and 15 % never. Each rate is one row of the table.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from bench.bench_db import database_url, drop_database  # noqa: E402

JOB_SECONDS = 1.0  # an observe job: claimed within the worker's poll, one vendor answer
WEBHOOK_SCHEDULE_SECONDS = 2.0
WEBHOOK_DROPPED = 0.02
BATCH = {"webex": 85, "zoom": 1}  # waits one read checks (connectors' max_batch)
PASS_SECONDS = 90.0  # a pass over 40,000 users lists for about this long before it judges
WEBEX_PAGE, ZOOM_PAGE = 100, 300  # the connectors' listing page sizes


def setup(members: int) -> dict[str, Any]:
    from campusconf.accounts.models import Account
    from campusconf.members.models import Member
    from campusconf.services.models import Service

    services = {
        "webex": Service.objects.create(
            slug="webex", vendor="webex", name_ja="Webex", name_en="Webex",
            plan_name="Enterprise", seats=members, max_participants=1000,
            invitation_validity_days=15, eligible_roles="faculty staff student",
            connector_settings={},
        ),
        "zoom": Service.objects.create(
            slug="zoom", vendor="zoom", name_ja="Zoom", name_en="Zoom",
            plan_name="Pro", seats=members, max_participants=500,
            invitation_validity_days=30, eligible_roles="faculty staff student",
            connector_settings={"plan": "pro", "webhook_secret_env": "ZOOM_WEBHOOK_SECRET"},
        ),
    }  # fmt: skip
    batch = 5000
    for start in range(0, members, batch):
        Member.objects.bulk_create(
            Member(
                common_id=f"{2600000000 + n}",
                family_name_latin="Sato",
                given_name_latin=f"M{n}",
                roles="faculty",
                university_account_created_on=datetime.date(2020, 4, 1),
            )
            for n in range(start, min(members, start + batch))
        )
    ids = list(Member.objects.order_by("pk").values_list("pk", flat=True))
    for service in services.values():
        for start in range(0, len(ids), batch):
            Account.objects.bulk_create(
                Account(member_id=pk, service=service, state="active")
                for pk in ids[start : start + batch]
            )
    return services


def simulate(services: dict[str, Any], args: argparse.Namespace, per_hour: float) -> list[dict]:
    from django.utils import timezone

    from campusconf.accounts.models import Account
    from campusconf.portal import live
    from campusconf.provisioning.conf import engine_setting
    from campusconf.provisioning.engine import watch, watch_batch
    from campusconf.provisioning.models import Watch

    rng = random.Random(args.seed)
    Watch.objects.all().delete()
    t0 = timezone.now()
    end = t0 + datetime.timedelta(hours=args.hours)
    tick = datetime.timedelta(seconds=int(engine_setting("WATCH_SECONDS")))
    reconcile = datetime.timedelta(minutes=int(engine_setting("RECONCILE_MINUTES")))
    clock = {"now": t0}
    queued: list[int] = []

    batched: list[int] = []
    calls: dict[str, int] = defaultdict(int)

    def record(account: Any, *_: Any, **__: Any) -> None:
        queued.append(account.pk)

    def record_batch(service: Any, account_ids: list[int]) -> int:
        batched.extend(account_ids)
        n = math.ceil(len(account_ids) / BATCH[service.vendor])
        calls[service.slug] += n
        return n

    # The reads are modelled, not sent: one read per observe job; a read of up to 85
    # Webex people per call (watch_batch), each change it shows then read alone.
    watch.enqueue = record  # type: ignore[assignment]
    watch_batch.batch_size = lambda service: BATCH[service.vendor]  # type: ignore[assignment]
    watch_batch.read = record_batch  # type: ignore[assignment]

    activation: dict[int, datetime.datetime] = {}  # account → when the member activated
    invited_at: dict[int, datetime.datetime] = {}
    service_of: dict[int, str] = {}
    arrivals: list[tuple[datetime.datetime, int, str]] = []
    detected: dict[int, datetime.datetime] = {}
    reads = {slug: defaultdict(int) for slug in services}  # minute → watch reads
    checked: dict[str, int] = defaultdict(int)  # waits checked, by any read
    for slug, service in services.items():
        pks = list(Account.objects.filter(service=service).values_list("pk", flat=True))
        rng.shuffle(pks)
        old, fresh = pks[: args.old], pks[args.old :]
        rows = []
        webhooks = watch.has_webhooks(service)
        top = watch.ceiling(len(old), BATCH[service.vendor], watch.reads_per_minute(service))
        for pk in old:
            since = t0 - datetime.timedelta(days=rng.uniform(1, 30))
            seconds = watch.interval((t0 - since).total_seconds(), webhooks, top)
            nxt = (
                t0 + datetime.timedelta(seconds=rng.uniform(0, seconds))
                if seconds
                else t0 + watch.LEFT_TO_RECONCILE
            )
            rows.append(Watch(account_id=pk, service=service, since=since, next_check_at=nxt))
            invited_at[pk], service_of[pk] = since, slug
            if rng.random() < 0.10:
                activation[pk] = t0 + datetime.timedelta(seconds=rng.uniform(0, args.hours * 3600))
        Watch.objects.bulk_create(rows)
        t, n = t0, 0
        while True:
            t += datetime.timedelta(seconds=rng.expovariate(per_hour / 3600))
            if t >= end:
                break
            pk = fresh[n]
            n += 1
            arrivals.append((t, pk, slug))
            invited_at[pk], service_of[pk] = t, slug
            draw = rng.random()
            if draw < 0.60:
                activation[pk] = t + datetime.timedelta(seconds=rng.expovariate(1 / 600))
            elif draw < 0.85:
                activation[pk] = t + datetime.timedelta(seconds=rng.uniform(3600, 86400))
    arrivals.sort()
    # Reconcile passes: each service's schedule at its own phase.
    passes = {
        slug: t0 + datetime.timedelta(seconds=rng.uniform(0, reconcile.total_seconds()))
        for slug in services
    }
    webhook_seen = {
        pk: at + datetime.timedelta(seconds=rng.uniform(0, WEBHOOK_SCHEDULE_SECONDS) + JOB_SECONDS)
        for pk, at in activation.items()
        if watch.has_webhooks(services[service_of[pk]]) and rng.random() >= WEBHOOK_DROPPED
    }

    def settle(pk: int, at: datetime.datetime) -> None:
        if pk in detected or pk not in activation or activation[pk] > at:
            return
        detected[pk] = at
        watch.follow([(pk, services[service_of[pk]].pk, "active")], now=at)

    started = time.monotonic()
    now, a = t0, 0
    while now < end:
        clock["now"] = now
        while a < len(arrivals) and arrivals[a][0] <= now:
            at, pk, slug = arrivals[a]
            watch.follow([(pk, services[slug].pk, "invited")], now=at)
            a += 1
        for pk, seen in list(webhook_seen.items()):
            if seen <= now:
                settle(pk, seen)
                del webhook_seen[pk]
        for slug, at in passes.items():
            if at <= now:
                for pk, when in activation.items():
                    if service_of[pk] == slug and when <= at:
                        settle(pk, at + datetime.timedelta(seconds=PASS_SECONDS))
                passes[slug] = at + reconcile
        queued.clear()
        batched.clear()
        calls.clear()
        watch.run(now=now)
        minute = int((now - t0).total_seconds() // 60)
        for pk in queued:
            reads[service_of[pk]][minute] += 1
            checked[service_of[pk]] += 1
            settle(pk, now + datetime.timedelta(seconds=JOB_SECONDS))
        for slug, n in calls.items():
            reads[slug][minute] += n
        for pk in batched:
            checked[service_of[pk]] += 1
            if pk in activation and activation[pk] <= now and pk not in detected:
                reads[service_of[pk]][minute] += 1  # the observe job's own read
                settle(pk, now + datetime.timedelta(seconds=2 * JOB_SECONDS))
        now += tick
    elapsed = time.monotonic() - started

    poll = float(live.POLL_SECONDS)
    rows_out = []
    for slug, service in services.items():
        from campusconf.provisioning.queueing import rate_limits

        limits = rate_limits.limits(service)
        read_rate = 60 * limits["light" if slug == "zoom" else "api"]
        list_rate = 60 * limits["medium" if slug == "zoom" else "api"]
        accounts = args.members
        pages = math.ceil(accounts / (ZOOM_PAGE if slug == "zoom" else WEBEX_PAGE)) + (
            2 if slug == "zoom" else 0  # the inactive and pending listings
        )
        per_minute_list = pages / reconcile.total_seconds() * 60
        minutes = args.hours * 60
        watch_reads = [reads[slug].get(m, 0) for m in range(minutes)]
        seen = [pk for pk in detected if service_of[pk] == slug and activation[pk] < end]
        lat_all = [
            (detected[pk] - activation[pk]).total_seconds() + rng.uniform(0, poll) for pk in seen
        ]
        lat_fresh = [
            (detected[pk] - activation[pk]).total_seconds() + rng.uniform(0, poll)
            for pk in seen
            if (activation[pk] - invited_at[pk]) < datetime.timedelta(days=1)
        ]
        missed = sum(
            1
            for pk, when in activation.items()
            if service_of[pk] == slug and when < end - reconcile and pk not in detected
        )
        mean_reads = statistics.fmean(watch_reads)
        share_watch = mean_reads / read_rate
        share_list = per_minute_list / list_rate
        rows_out.append(
            {
                "service": f"{slug} ({'webhooks' if watch.has_webhooks(service) else 'no webhooks'})",
                "per_hour": per_hour,
                "activations": len(seen),
                "missed": missed,
                "fresh": _dist(lat_fresh),
                "all": _dist(lat_all),
                "checked": checked[slug] / minutes,
                "watch_mean": mean_reads,
                "watch_max": max(watch_reads),
                "allowance": watch.reads_per_minute(service),
                "list_per_min": per_minute_list,
                "share": 100 * (share_watch + share_list),
                "read_rate": read_rate,
                "elapsed": elapsed,
            }
        )
    return rows_out


def _dist(values: list[float]) -> str:
    if not values:
        return "—"
    values = sorted(values)

    def q(p: float) -> float:
        return values[min(len(values) - 1, int(p * len(values)))]

    return f"{q(0.5):.0f} / {q(0.95):.0f} / {q(0.99):.0f} / {values[-1]:.0f} s (n={len(values)})"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=40_000)
    ap.add_argument("--hours", type=int, default=6)
    ap.add_argument("--old", type=int, default=800, help="waits 1-30 days old at the start")
    ap.add_argument("--per-hour", type=float, nargs="+", default=[10, 60])
    ap.add_argument("--seed", type=int, default=22)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="detection-latency-"))
    base = os.environ.get("DATABASE_URL", "")
    db_url, pg_name = database_url(tmp)
    try:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "campusconf.settings.test",
                "DATABASE_URL": db_url,
                "LOG_LEVEL": "WARNING",
            }
        )
        subprocess.run(
            [sys.executable, "-m", "campusconf.cli", "migrate", "-v0"],
            env=os.environ.copy(),
            check=True,
        )
        import django

        django.setup()
        services = setup(args.members)
        rows = [r for rate in args.per_hour for r in simulate(services, args, rate)]
    finally:
        drop_database(base, pg_name)
        shutil.rmtree(tmp, ignore_errors=True)
    print(
        f"{args.members:,} members, an account at each service; {args.old} waits 1-30 days "
        f"old; {args.hours} h simulated; latency to the member's page, p50 / p95 / p99 / max"
    )
    print(
        "| service | new invitations / h | activations seen | latency, invited < 1 day | "
        "latency, all | waits checked / min | watch reads / min (mean, max; allowance) | "
        "listing pages / min | share of the vendor's read rate |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['service']} | {r['per_hour']:.0f} | {r['activations']}"
            f"{' (' + str(r['missed']) + ' missed)' if r['missed'] else ''} | {r['fresh']} | "
            f"{r['all']} | {r['checked']:.1f} | "
            f"{r['watch_mean']:.1f}, {r['watch_max']}; {r['allowance']} | "
            f"{r['list_per_min']:.1f} | {r['share']:.1f} % of {r['read_rate']:.0f}/min |"
        )
    print(f"simulation  {sum(r['elapsed'] for r in rows) / 2:.0f} s of wall time")
    return 0


if __name__ == "__main__":
    sys.exit(main())
