import json

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils import timezone

from campusconf.audit.forms import AuditFilterForm
from campusconf.audit.log import record
from campusconf.audit.models import AuditEntry
from campusconf.audit.queries import actions_in_use, filter_entries
from campusconf.core.csv_export import csv_download
from campusconf.core.staff_access import staff_required

CSV_COLUMNS = ["when", "who", "action", "target_type", "target_id", "target", "reason", "details"]


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, filter_entries(filters)


@staff_required
def log(request: HttpRequest) -> HttpResponse:
    form, entries = _filtered(request)
    page = Paginator(entries.select_related("actor"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode(), "actions": actions_in_use()},
    )


@staff_required
def export(request: HttpRequest) -> HttpResponseBase:
    form, entries = _filtered(request)
    filters = {k: str(v) for k, v in (form.cleaned_data if form.is_valid() else {}).items() if v}
    rows = (
        (
            timezone.localtime(e.created_at).isoformat(),
            e.actor_name,
            e.action,
            e.target_type,
            e.target_id,
            e.target_label,
            e.reason,
            json.dumps(e.details, ensure_ascii=False, sort_keys=True, default=str),
        )
        for e in entries.iterator()
    )
    # Taken before the rows are read, so the export lists itself: the log shows who
    # took a copy of it, and with which filters.
    record(request.user, "audit.export", None, "CSV export", filters=filters)
    return csv_download("audit.csv", CSV_COLUMNS, rows, stream=True)
