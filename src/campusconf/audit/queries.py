import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from campusconf.audit.models import AuditEntry


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


# Who acted, told apart by how ``record`` and ``record_cli`` write the actor: a user
# (staff or not), or a name with a prefix for what is not a person.
PREFIXED = {"cli": "cli:", "scim": "scim:"}


def _kind(kind: str) -> Q:
    if kind in PREFIXED:
        return Q(actor_name__startswith=PREFIXED[kind])
    if kind == "staff":
        return Q(actor__is_staff=True)
    if kind == "member":
        return Q(actor__isnull=False, actor__is_staff=False)
    not_prefixed = ~Q(actor_name__startswith="cli:") & ~Q(actor_name__startswith="scim:")
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
