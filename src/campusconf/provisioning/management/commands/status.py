from typing import Any

from django.core.management.base import BaseCommand

from campusconf.core import clock
from campusconf.provisioning import campaign_progress, ratelimit
from campusconf.provisioning.metrics import snapshot
from campusconf.provisioning.models import Campaign, ServiceProblem
from campusconf.services.models import Service

LIVE_CAMPAIGNS = (Campaign.Status.ENROLLING, Campaign.Status.RUNNING)


class Command(BaseCommand):
    help = (
        "Queue depth, rate-limit state, the last reconcile of each service, and the "
        "finish estimate of each running campaign."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        s = snapshot()
        now = clock.now()
        self.stdout.write(f"jobs: {s.jobs_by_status or 'none'}; queue lag {s.lag:.1f}s")
        services = {service.slug: service for service in Service.objects.all()}
        problems = {
            p.service.slug: p
            for p in ServiceProblem.objects.filter(resolved_at__isnull=True).select_related(
                "service"
            )
        }
        for slug, row in s.services.items():
            self.stdout.write(f"{slug}:")
            if slug in problems:
                problem = problems[slug]
                self.stdout.write(
                    f"  PAUSED since {problem.since:%Y-%m-%d %H:%M} ({problem.kind}): "
                    f"{problem.detail} — see the back office, or run: "
                    f"campusconf vendor-check {slug}"
                )
            self.stdout.write(f"  runnable jobs {row['queued']}, running {row['running']}")
            for bucket in row["buckets"]:
                self.stdout.write(f"  rate limit {bucket}")
            capped = ratelimit.creates_paused_until(services[slug], now)
            if capped is not None:
                self.stdout.write(
                    f"  creates paused until {capped:%Y-%m-%d %H:%M %Z} (the vendor's daily "
                    "create cap); they resume by themselves, nothing fails"
                )
            self.stdout.write(f"  last reconcile: {row['last_reconcile']}")
            live = Campaign.objects.filter(service__slug=slug, status__in=LIVE_CAMPAIGNS)
            for campaign in live.order_by("pk"):
                p = campaign_progress.progress(campaign)
                self.stdout.write(f"  campaign {campaign.pk}: finish {p.finish_estimate}")
