"""The campaign dry run, member by member: everyone the cohort's filters reach, each
marked "invited" or with the reason a start would leave them out. The counts on the
preview and the rows of its CSV come from the same rules as ``preview`` and the
engine's enrolment (active, created before the cut-off, no live account, eligible)."""

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.sessions.backends.base import SessionBase
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.accounts.states import LIVE_STATES, State
from campusconf.backoffice.campaigns import Cohort
from campusconf.members.models import Member
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service

INVITED = "invited"
LEFT_OUT = "left_out"
CSV_COLUMNS = [
    "common_id",
    "name_ja",
    "name_latin",
    "affiliation",
    "affiliation_ja",
    "roles",
    "outcome",
    "reason",
]
SESSION_KEY = "campaign_previews"
KEPT = 5  # previews a staff member can go back to (language switch, another tab)


@dataclass(frozen=True)
class Row:
    common_id: str
    member: Member | None
    outcome: str  # INVITED or LEFT_OUT
    reason: str


def in_scope(cohort: Cohort) -> QuerySet[Member]:
    """The cohort's roles, affiliations and list, without the cut-off and whatever the
    member's status: those are reasons to leave a member out, which staff should see."""
    members = Member.objects.all()
    if cohort.roles:
        match = Q()
        for role in cohort.roles:
            match |= Q(roles__contains=role)  # as the engine's cohort: no role is part of another
        members = members.filter(match)
    if cohort.affiliations:
        members = members.filter(affiliation__in=cohort.affiliations)
    if cohort.common_ids:
        members = members.filter(common_id__in=cohort.common_ids)
    return members.order_by("common_id")


def _reason(member: Member, live_state: str | None, service: Service, cohort: Cohort) -> str:
    if not member.is_active_member:
        return _("has left the university")
    cutoff = cohort.created_before
    if cutoff and member.university_account_created_on >= cutoff:
        return _("university account created on %(created)s, not before the cut-off %(cutoff)s") % {
            "created": member.university_account_created_on,
            "cutoff": cutoff,
        }
    if live_state is not None:
        return _("already has an account (%(state)s)") % {"state": State(live_state).label}
    verdict = check_eligibility(member, service)
    if not verdict.eligible:
        return _("not eligible: %(why)s") % {"why": verdict.reason}
    return ""


def rows(service: Service, cohort: Cohort) -> Iterator[Row]:
    """One row per member in scope (by common ID), then one per listed unknown ID."""
    live = Account.objects.filter(
        member=OuterRef("pk"), service=service, state__in=list(LIVE_STATES)
    ).values("state")[:1]
    members = in_scope(cohort).annotate(live_state=Subquery(live))
    seen: set[str] = set()
    for member in members.iterator(chunk_size=2000):
        seen.add(member.common_id)
        reason = _reason(member, member.live_state, service, cohort)
        yield Row(member.common_id, member, LEFT_OUT if reason else INVITED, reason)
    for common_id in cohort.common_ids:
        if common_id not in seen:
            yield Row(common_id, None, LEFT_OUT, _("no member has this common ID"))


def csv_rows(service: Service, cohort: Cohort) -> Iterator[list[str]]:
    for row in rows(service, cohort):
        m = row.member
        yield [
            row.common_id,
            m.display_name_ja if m else "",
            m.display_name_latin if m else "",
            m.affiliation if m else "",
            m.affiliation_ja if m else "",
            m.roles if m else "",
            row.outcome,
            row.reason,
        ]


def remember(session: SessionBase, service: Service, cohort: Cohort) -> str:
    """Keep the previewed cohort in the session under a short key for the page's URL,
    so the preview outlives a GET (a language switch, the list's next page, the CSV)."""
    kept: dict[str, Any] = dict(session.get(SESSION_KEY) or {})
    key = secrets.token_urlsafe(6)
    kept[key] = {"service": service.slug, "cohort": cohort.as_json()}
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT:])
    return key


def recall(session: SessionBase, key: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (session.get(SESSION_KEY) or {}).get(key)
    return found
