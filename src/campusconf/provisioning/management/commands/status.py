from typing import Any

from django.core.management.base import BaseCommand

from campusconf.provisioning.metrics import snapshot
from campusconf.provisioning.models import ServiceProblem


class Command(BaseCommand):
    help = "Queue depth, rate-limit state and the last reconcile of each service."

    def handle(self, *args: Any, **options: Any) -> None:
        s = snapshot()
        self.stdout.write(f"jobs: {s.jobs_by_status or 'none'}; queue lag {s.lag:.1f}s")
        paused = {
            p.service.slug: p
            for p in ServiceProblem.objects.filter(resolved_at__isnull=True).select_related(
                "service"
            )
        }
        for slug, row in s.services.items():
            self.stdout.write(f"{slug}:")
            if slug in paused:
                problem = paused[slug]
                self.stdout.write(
                    f"  PAUSED since {problem.since:%Y-%m-%d %H:%M} ({problem.kind}): "
                    f"{problem.detail} — see the back office, or run: "
                    f"campusconf vendor-check {slug}"
                )
            self.stdout.write(f"  runnable jobs {row['queued']}, running {row['running']}")
            for bucket in row["buckets"]:
                self.stdout.write(f"  rate limit {bucket}")
            self.stdout.write(f"  last reconcile: {row['last_reconcile']}")
