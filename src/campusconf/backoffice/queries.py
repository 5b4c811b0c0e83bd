"""What the back office reads: counts, queues and searches. No writes here."""

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from campusconf.accounts.models import Account, AccountEvent, Application
from campusconf.accounts.states import State
from campusconf.members.models import Member

# Which accounts hold a seat is the engine's rule, defined once (provisioning/verbs/seats.py,
# SEAT_STATES) and re-exported here, so the dashboard counts exactly what the cap counts.
from campusconf.provisioning.models import ReconcilePass, SeatWait, UnmatchedVendorUser
from campusconf.provisioning.verbs.seats import seats_used as seats_used
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service


def last_checked_at(service: Service) -> datetime.datetime | None:
    """When a reconcile pass last finished reading the service's users at the vendor
    and applying what it saw. The engine books passes per service (ReconcilePass),
    not per account, so this is what "last checked against the vendor" can honestly
    say of an account. A held or failed pass applied nothing and does not count."""
    finished: datetime.datetime | None = ReconcilePass.objects.filter(
        service=service,
        status__in=[ReconcilePass.Status.DONE, ReconcilePass.Status.APPROVED],
    ).aggregate(at=Max("finished_at"))["at"]
    return finished


STUCK_AFTER = datetime.timedelta(hours=1)  # S5: no invitation within an hour
EXPIRING_WITHIN = datetime.timedelta(days=3)
QUEUE_SAMPLE = 20


@dataclass
class Queue:
    key: str
    count: int
    rows: list[Any] = field(default_factory=list)


@dataclass
class DayCount:
    day: datetime.date
    applications: int
    activations: int


def accounts_by_state(service: Service) -> list[tuple[State, int]]:
    counts = dict(
        Account.objects.filter(service=service)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return [(state, counts.get(state.value, 0)) for state in State]


def _per_day(qs: QuerySet[Any], field_name: str, since: datetime.datetime) -> dict[Any, int]:
    tz = timezone.get_current_timezone()
    return dict(
        qs.filter(**{f"{field_name}__gte": since})
        .annotate(day=TruncDate(field_name, tzinfo=tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )


def daily_activity(service: Service, days: int = 30) -> list[DayCount]:
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    applied = _per_day(Application.objects.filter(service=service), "created_at", since)
    activated = _per_day(
        AccountEvent.objects.filter(account__service=service, to_state=State.ACTIVE),
        "created_at",
        since,
    )
    return [
        DayCount(d, applied.get(d, 0), activated.get(d, 0))
        for d in (first + datetime.timedelta(days=i) for i in range(days))
    ]


def _queue(key: str, qs: QuerySet[Any]) -> Queue:
    return Queue(key, qs.count(), list(qs[:QUEUE_SAMPLE]))


def _accounts(service: Service) -> QuerySet[Account]:
    return Account.objects.filter(service=service).select_related("member", "service")


def failed_accounts(service: Service) -> QuerySet[Account]:
    """The service's failed queue, oldest failure first."""
    return _accounts(service).filter(state=State.FAILED).order_by("updated_at", "pk")


def attention_queues(service: Service, now: datetime.datetime | None = None) -> list[Queue]:
    """The work that needs a person, most urgent first."""
    now = now or timezone.now()
    waiting = (State.INVITED, State.CONVERSION_PENDING)
    queues = [
        _queue("failed", failed_accounts(service)),
        _queue(
            "unlicensed",
            _accounts(service).filter(state=State.UNLICENSED).order_by("updated_at"),
        ),
        _queue(
            "held_elsewhere",
            _accounts(service).filter(state=State.HELD_ELSEWHERE).order_by("updated_at"),
        ),
        _queue(
            "not_activated",
            _accounts(service)
            .filter(state__in=waiting, invitation_sent_at__lt=now - STUCK_AFTER)
            .order_by("invitation_sent_at"),
        ),
        _queue(
            "expiring",
            _accounts(service)
            .filter(
                state__in=waiting,
                invitation_expires_at__gte=now,
                invitation_expires_at__lt=now + EXPIRING_WITHIN,
            )
            .order_by("invitation_expires_at"),
        ),
    ]
    queues.extend(_engine_queues(service))
    queues.append(
        _queue(
            "seat_wait",
            SeatWait.objects.filter(service=service, outcome=SeatWait.Outcome.WAITING)
            .select_related("member")
            .order_by("created_at", "id"),
        )
    )
    return queues


def _engine_queues(service: Service) -> list[Queue]:
    # The engine's report tables: what reconcile found and could not settle alone.
    return [
        _queue(
            "unmatched",
            UnmatchedVendorUser.objects.filter(service=service).order_by("first_seen_at"),
        ),
        _queue(
            "held_reconcile",
            ReconcilePass.objects.filter(
                service=service, status=ReconcilePass.Status.HELD
            ).order_by("started_at"),
        ),
    ]


def _match(term: str, prefix: str) -> Q:
    """Members by common ID, name (Japanese or Latin, either order) or address;
    ``prefix`` is the path to the member ("member__" from an account, "" from a member)."""

    def q(lookup: str, value: str) -> Q:
        return Q(**{f"{prefix}{lookup}": value})

    match = (
        q("common_id__startswith", term)
        | q("family_name_latin__icontains", term)
        | q("given_name_latin__icontains", term)
        | q("family_name_ja__icontains", term)
        | q("given_name_ja__icontains", term)
        | q("addresses__address__icontains", term)
    )
    parts = term.split()
    if len(parts) == 2:
        # "Taro Yamada", "Yamada Taro" or "山田 太郎"
        a, b = parts
        for family, given in ((a, b), (b, a)):
            match |= q("family_name_latin__iexact", family) & q("given_name_latin__iexact", given)
            match |= q("family_name_ja", family) & q("given_name_ja", given)
    return match


def _clean(term: str) -> str:
    return term.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL


def search_accounts(term: str) -> QuerySet[Account]:
    """By common ID, name (Japanese or Latin), primary address, alias or vendor address."""
    term = _clean(term)
    qs = Account.objects.select_related("member", "service").order_by(
        "member__common_id", "service__display_order"
    )
    if not term:
        return qs.none()
    return qs.filter(_match(term, "member__") | Q(vendor_address__icontains=term)).distinct()


@dataclass
class Offer:
    """One service as seen for a member without an account there."""

    service: Service
    has_account: bool
    eligible: bool
    reason: str = ""


@dataclass
class MemberRow:
    member: Member
    offers: list[Offer]


def search_members_without_account(term: str, limit: int = 100) -> list[MemberRow]:
    """Members matching ``term`` as the account search matches them, who have no
    account at one or more enabled services: staff can look them up and apply for
    them. Eligibility is the engine's own check, so the desk offers what it would accept."""
    term = _clean(term)
    if not term:
        return []
    services = list(Service.objects.filter(enabled=True).order_by("display_order", "pk"))
    if not services:
        return []
    matching = Member.objects.filter(_match(term, "")).values("pk")
    members = (
        Member.objects.filter(pk__in=matching)
        .annotate(
            n=Count("accounts__service", filter=Q(accounts__service__enabled=True), distinct=True)
        )
        .filter(n__lt=len(services))
        .prefetch_related("accounts")
        .order_by("common_id")[:limit]
    )
    rows = []
    for member in members:
        held = {a.service_id for a in member.accounts.all()}
        offers = []
        for service in services:
            verdict = check_eligibility(member, service)
            offers.append(Offer(service, service.pk in held, verdict.eligible, verdict.reason))
        rows.append(MemberRow(member, offers))
    return rows
