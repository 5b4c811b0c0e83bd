import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from campusconf.audit.actors import PREFIXES, Kind
from campusconf.audit.models import AuditEntry


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _kind(kind: str) -> Q:
    """Who acted, told apart as ``actors.kind_of_name`` does: a name with a prefix for
    what is not a person, else the user (staff or not), else the system."""
    prefixed = {str(k): p for k, p in PREFIXES.items()}
    if kind in prefixed:
        return Q(actor_name__startswith=prefixed[kind])
    not_prefixed = Q()
    for prefix in prefixed.values():
        not_prefixed &= ~Q(actor_name__startswith=prefix)
    if kind == Kind.STAFF:
        return Q(actor__is_staff=True) & not_prefixed
    if kind == Kind.MEMBER:
        return Q(actor__isnull=False, actor__is_staff=False) & not_prefixed
    return Q(actor__isnull=True) & not_prefixed  # "system"


def filter_entries(filters: dict[str, Any]) -> QuerySet[AuditEntry]:
    """Filters as cleaned by AuditFilterForm; empty ones are ignored. Dates are inclusive."""
    qs = AuditEntry.objects.all()
    if filters.get("kind"):
        qs = qs.filter(_kind(filters["kind"]))
    if filters.get("actor"):
        qs = qs.filter(actor_name__iexact=filters["actor"])
    if filters.get("action"):
        qs = qs.filter(action__startswith=filters["action"])
    if filters.get("target_type"):
        qs = qs.filter(target_type=filters["target_type"])
    if filters.get("target_id"):
        qs = qs.filter(target_id=filters["target_id"])
    if filters.get("date_from"):
        qs = qs.filter(created_at__gte=_start_of(filters["date_from"]))
    if filters.get("date_to"):
        qs = qs.filter(created_at__lt=_start_of(filters["date_to"] + datetime.timedelta(days=1)))
    return qs


def actions_in_use() -> list[str]:
    return list(AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct())
