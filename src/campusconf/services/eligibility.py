"""Who may hold an account at a service (S10, S11)."""

from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.members.models import Member
from campusconf.services.models import LicenceEndPolicy, Service


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reason: str = ""


def check_eligibility(member: Member, service: Service) -> Eligibility:
    if not member.is_active_member:
        return Eligibility(False, _("You have left the university."))
    if (
        service.valid_until is not None
        and service.valid_until < timezone.localdate()
        and service.licence_end_policy != LicenceEndPolicy.KEEP
    ):
        # The licence ended (S16): no new accounts until the staff moves the end date.
        return Eligibility(
            False,
            _("The university licence for this service ended on %(date)s.")
            % {"date": service.valid_until.isoformat()},
        )
    if not set(member.role_list) & set(service.eligible_role_list):
        return Eligibility(
            False,
            _("This service is offered to: %(roles)s.")
            % {"roles": ", ".join(_(r) for r in service.eligible_role_list)},
        )
    if service.roster_cutoff and member.university_account_created_on > service.roster_cutoff:
        return Eligibility(
            False,
            _(
                "This service is offered to members whose university account existed "
                "on %(date)s; yours was created on %(created)s."
            )
            % {
                "date": service.roster_cutoff.isoformat(),
                "created": member.university_account_created_on.isoformat(),
            },
        )
    if service.eligible_affiliations and member.affiliation not in service.eligible_affiliations:
        return Eligibility(False, _("This service is not offered to your affiliation."))
    return Eligibility(True)
