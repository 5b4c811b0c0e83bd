"""The morning coffee: what needs a person, per service and in total, in a handful of
aggregate queries whatever the number of members.

Every account number on the dashboard is a named filter (``FILTERS``); the dashboard
counts it and the filtered list (``accounts_matching``) shows it with the same
condition, so a number and the rows behind its link cannot disagree."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, Max, Min, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import State
from campusconf.backoffice.queries import STUCK_AFTER
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import RateBucket, ReconcilePass
from campusconf.provisioning.queueing.rate_limits import category, daily_create_cap
from campusconf.provisioning.verbs.seats import SEAT_STATES
from campusconf.services.models import Service

WAITING = [State.INVITED, State.CONVERSION_PENDING]
DAY = datetime.timedelta(days=1)


def _stuck(now: datetime.datetime) -> Q:
    # S5: nothing went out within the hour; the engine should have sent it by now.
    return Q(state=State.REQUESTED, created_at__lt=now - STUCK_AFTER)


def _waiting(newer: datetime.timedelta | None, older: datetime.timedelta) -> Callable[..., Q]:
    def q(now: datetime.datetime) -> Q:
        match = Q(state__in=WAITING, invitation_sent_at__lte=now - older)
        if newer is not None:
            match &= Q(invitation_sent_at__gt=now - newer)
        return match

    return q


@dataclass(frozen=True)
class Filter:
    key: str
    label: Promise
    q: Callable[[datetime.datetime], Q]
    short: Promise | None = None  # under a heading that already says the rest


FILTERS: dict[str, Filter] = {
    f.key: f
    for f in [
        Filter(
            "needs_person",
            _("needs a person"),
            lambda now: (
                Q(state__in=[State.FAILED, State.UNLICENSED, State.HELD_ELSEWHERE]) | _stuck(now)
            ),
        ),
        Filter("stuck", _("stuck (no invitation after an hour)"), _stuck),
        Filter("failed", _("failed"), lambda now: Q(state=State.FAILED)),
        Filter(
            "waiting_day",
            _("invited, not active: under a day"),
            _waiting(DAY, datetime.timedelta(0)),
            _("under a day"),
        ),
        Filter(
            "waiting_week",
            _("invited, not active: 1–7 days"),
            _waiting(7 * DAY, DAY),
            _("1–7 days"),
        ),
        Filter(
            "waiting_fortnight",
            _("invited, not active: 7–14 days"),
            _waiting(14 * DAY, 7 * DAY),
            _("7–14 days"),
        ),
        Filter(
            "waiting_older",
            _("invited, not active: over 14 days"),
            _waiting(None, 14 * DAY),
            _("over 14 days"),
        ),
        Filter("seats", _("seats used"), lambda now: Q(state__in=list(SEAT_STATES))),
    ]
}


def accounts_matching(
    key: str, service: Service | None, now: datetime.datetime
) -> QuerySet[Account]:
    qs = Account.objects.filter(FILTERS[key].q(now))
    if service is not None:
        qs = qs.filter(service=service)
    return qs.select_related("member", "service").order_by(
        "member__common_id", "service__display_order"
    )


def open_inquiries(service: Service | None) -> QuerySet[Inquiry]:
    qs = Inquiry.objects.exclude(status=Inquiry.Status.RESOLVED)
    return qs.filter(service=service) if service is not None else qs


@dataclass
class Row:
    service: Service | None  # None: the total
    counts: dict[str, int] = field(default_factory=dict)
    inquiries: int = 0
    oldest_inquiry_at: datetime.datetime | None = None
    seats: int | None = None
    last_reconcile_at: datetime.datetime | None = None
    creates_today: int | None = None
    daily_cap: int | None = None

    def cells(self, keys: list[str]) -> list[tuple[str, Promise, int]]:
        """(filter key, label, count) for the template, which cannot index a dict."""
        return [
            (key, FILTERS[key].short or FILTERS[key].label, self.counts.get(key, 0)) for key in keys
        ]

    @property
    def attention(self) -> list[tuple[str, Promise, int]]:
        return self.cells(["needs_person", "stuck", "failed"])

    @property
    def waiting(self) -> list[tuple[str, Promise, int]]:
        return self.cells(["waiting_day", "waiting_week", "waiting_fortnight", "waiting_older"])


def rows(services: list[Service], now: datetime.datetime | None = None) -> list[Row]:
    """One row per service and a total row last: four queries in all."""
    now = now or timezone.now()
    per_service = {s.pk: Row(s, seats=s.seats, daily_cap=daily_create_cap(s)) for s in services}
    counted = Account.objects.values("service_id").annotate(
        **{key: Count("id", filter=f.q(now)) for key, f in FILTERS.items()}
    )
    for c in counted:
        if c["service_id"] in per_service:
            per_service[c["service_id"]].counts = {key: c[key] for key in FILTERS}
    asked = (
        open_inquiries(None).values("service_id").annotate(n=Count("id"), oldest=Min("created_at"))
    )
    total = Row(None, counts=dict.fromkeys(FILTERS, 0))
    for a in asked:
        total.inquiries += a["n"]
        total.oldest_inquiry_at = min(filter(None, [total.oldest_inquiry_at, a["oldest"]]))
        if a["service_id"] in per_service:
            per_service[a["service_id"]].inquiries = a["n"]
            per_service[a["service_id"]].oldest_inquiry_at = a["oldest"]
    passes = (
        ReconcilePass.objects.filter(
            status__in=[ReconcilePass.Status.DONE, ReconcilePass.Status.APPROVED]
        )
        .values("service_id")
        .annotate(at=Max("finished_at"))
    )
    for p in passes:
        if p["service_id"] in per_service:
            per_service[p["service_id"]].last_reconcile_at = p["at"]
    today = now.astimezone(datetime.UTC).date()  # the vendors' day starts at 00:00 UTC
    for bucket in RateBucket.objects.filter(service_id__in=list(per_service)).select_related(
        "service"
    ):
        row = per_service[bucket.service_id]
        if bucket.category == category(bucket.service.vendor, "create"):
            row.creates_today = bucket.day_count if bucket.day == today else 0
    for row in per_service.values():
        row.counts = {key: row.counts.get(key, 0) for key in FILTERS}
        for key in FILTERS:
            total.counts[key] += row.counts[key]
        total.creates_today = (total.creates_today or 0) + (row.creates_today or 0)
    # A limit in total only when every service has one.
    limits = [row.seats for row in per_service.values()]
    total.seats = sum(limits) if limits and None not in limits else None  # type: ignore[arg-type]
    for row in per_service.values():
        if row.last_reconcile_at and (
            total.last_reconcile_at is None or row.last_reconcile_at < total.last_reconcile_at
        ):
            total.last_reconcile_at = row.last_reconcile_at  # the stalest service's
    return [*per_service.values(), total]


# The chart's groups of states: what is settled, what waits on someone, what needs us.
GROUPS: list[tuple[Promise, frozenset[str]]] = [
    (_("active"), frozenset({State.ACTIVE})),
    (_("on the way"), frozenset({State.REQUESTED, State.INVITED, State.CONVERSION_PENDING})),
    (
        _("needs a person"),
        frozenset({State.FAILED, State.UNLICENSED, State.HELD_ELSEWHERE, State.INVITATION_EXPIRED}),
    ),
]


def state_history(
    service: Service | None, days: int = 30
) -> tuple[list[datetime.date], list[tuple[Promise, list[int]]]]:
    """Accounts per group of states at the end of each of the last ``days`` days,
    walked back from today's counts through the lifecycle's events: two queries."""
    accounts = Account.objects.all() if service is None else Account.objects.filter(service=service)
    now_counts: dict[str, int] = dict(
        accounts.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first + DAY, datetime.time.min))
    events = AccountEvent.objects.filter(created_at__gte=since)
    if service is not None:
        events = events.filter(account__service=service)
    moves = (
        events.annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values_list("day", "from_state", "to_state")
        .annotate(n=Count("id"))
    )
    by_day: dict[datetime.date, list[tuple[str, str, int]]] = {}
    for day, before, after, n in moves:
        by_day.setdefault(day, []).append((before, after, n))
    counts = dict(now_counts)
    per_day: list[dict[str, int]] = []
    for i in range(days):
        day = today - datetime.timedelta(days=i)
        per_day.append(dict(counts))
        # Undo the day's moves to get the state at the end of the day before.
        for before, after, n in by_day.get(day, []):
            counts[after] = counts.get(after, 0) - n
            if before:
                counts[before] = counts.get(before, 0) + n
    per_day.reverse()
    labels = [first + datetime.timedelta(days=i) for i in range(days)]
    series = [
        (name, [sum(max(0, d.get(s, 0)) for s in states) for d in per_day])
        for name, states in GROUPS
    ]
    return labels, series
