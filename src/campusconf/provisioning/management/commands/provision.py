from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from campusconf.accounts.lifecycle import AccountAlreadyLive
from campusconf.accounts.states import Cause
from campusconf.audit.actors import Actor
from campusconf.members.models import Member
from campusconf.provisioning.verbs.actions import NotEligible, WaitingForSeat, apply_for_service
from campusconf.services.models import Service


class Command(BaseCommand):
    help = "Apply for a service on a member's behalf: campusconf provision <common-id> <slug>."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("common_id")
        parser.add_argument("service")
        parser.add_argument("--reason", default="applied from the command line")

    def handle(self, *args: Any, **options: Any) -> None:
        member = Member.objects.filter(common_id=options["common_id"]).first()
        if member is None:
            raise CommandError(f"no member with common ID {options['common_id']}")
        service = Service.objects.filter(slug=options["service"]).first()
        if service is None:
            raise CommandError(f"no service {options['service']!r}")
        account = None
        place = None
        try:
            # The action writes the audit entry, the CLI operator as its actor.
            account = apply_for_service(
                member, service, cause=Cause.STAFF, actor=Actor.cli(), reason=options["reason"]
            )
        except WaitingForSeat as wait:
            place = wait.place  # not a refusal: the queue row and its entry are kept
        except (NotEligible, AccountAlreadyLive) as exc:
            raise CommandError(str(exc)) from exc
        if account is None:
            # Not an error: the application is kept and carried out when a seat frees.
            self.stdout.write(
                f"{member.common_id} @ {service.slug}: all {service.seats} seats are taken; "
                f"waiting, place {place} in the queue"
            )
            return
        self.stdout.write(
            f"account {account.pk}: {member.common_id} @ {service.slug} is {account.state}; "
            "a worker will create the vendor user"
        )
