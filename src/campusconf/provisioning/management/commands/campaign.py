import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from campusconf.audit.actors import Actor
from campusconf.provisioning.models import Campaign
from campusconf.provisioning.verbs import campaign_enrolment, campaign_progress
from campusconf.services.models import Service


def _when(text: str) -> datetime.datetime:
    value = datetime.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class Command(BaseCommand):
    help = "Bulk invitations: campaign start <slug> [filters] | status [ID] | pause | resume | cancel ID."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="verb", required=True)
        start = sub.add_parser("start", help="invite a cohort")
        start.add_argument("service")
        start.add_argument("--role", action="append", default=[], dest="roles")
        start.add_argument("--created-before", type=datetime.date.fromisoformat)
        start.add_argument("--affiliation", action="append", default=[], dest="affiliations")
        start.add_argument("--common-id", action="append", default=[], dest="common_ids")
        start.add_argument("--dry-run", action="store_true")
        start.add_argument(
            "--start-at",
            type=_when,
            help="ISO date-time (local time zone unless given): the workers start it then",
        )
        status = sub.add_parser("status", help="progress of one campaign, or of all")
        status.add_argument("id", nargs="?", type=int)
        for verb in ("pause", "resume", "cancel"):
            sub.add_parser(verb).add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        verb = options["verb"]
        if verb == "start":
            service = Service.objects.filter(slug=options["service"]).first()
            if service is None:
                raise CommandError(f"no service {options['service']!r}")
            campaign, planned, skipped = campaign_enrolment.start_campaign(
                service,
                roles=options["roles"],
                created_before=options["created_before"],
                affiliations=options["affiliations"],
                common_ids=options["common_ids"],
                dry_run=options["dry_run"],
                start_at=options["start_at"],
                actor=Actor.cli(),
                reason=f"campaign start {service.slug}",
            )
            if campaign is None:
                self.stdout.write(f"dry run: {planned} members would be invited")
                return
            if campaign.status == Campaign.Status.SCHEDULED:
                assert campaign.start_at is not None
                when = timezone.localtime(campaign.start_at).isoformat()
                self.stdout.write(
                    f"campaign {campaign.pk} scheduled: the workers start it at {when}"
                )
                return
            self.stdout.write(
                f"campaign {campaign.pk} started: {planned} invitations queued, {skipped} skipped"
            )
            self.stdout.write(f"finish: {campaign_progress.estimate(service, planned)}")
            return
        if verb == "status":
            chosen = Campaign.objects.select_related("service").order_by("-pk")
            if options["id"]:
                chosen = chosen.filter(pk=options["id"])
            for campaign in chosen[:20]:
                p = campaign_progress.progress(campaign)
                self.stdout.write(
                    f"campaign {campaign.pk} {campaign.service.slug} {campaign.status}: "
                    f"planned {campaign.planned}, accounts {p.by_state}, jobs {p.jobs}, "
                    f"finish {p.finish_estimate}"
                )
            return
        campaign_row = Campaign.objects.filter(pk=options["id"]).first()
        if campaign_row is None:
            raise CommandError(f"no campaign {options['id']}")
        target = {"pause": "paused", "resume": "running", "cancel": "cancelled"}[verb]
        try:
            campaign_enrolment.set_status(
                campaign_row, target, actor=Actor.cli(), reason=f"campaign {verb} {campaign_row.pk}"
            )
        except campaign_enrolment.CampaignStateError as exc:
            raise CommandError(f"campaign {campaign_row.pk} is {campaign_row.status}") from exc
        self.stdout.write(f"campaign {campaign_row.pk} {campaign_row.status}")
