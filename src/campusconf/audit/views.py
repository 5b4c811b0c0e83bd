import csv
import json
from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from campusconf.audit.forms import AuditFilterForm
from campusconf.audit.models import AuditEntry
from campusconf.audit.queries import actions_in_use, filter_entries
from campusconf.backoffice.access import staff_required

CSV_COLUMNS = ["when", "who", "action", "target_type", "target_id", "target", "reason", "details"]


def _filtered(request: HttpRequest) -> tuple[AuditFilterForm, QuerySet[AuditEntry]]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    return form, filter_entries(filters)


@staff_required
def log(request: HttpRequest) -> HttpResponse:
    form, entries = _filtered(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "query": query.urlencode(), "actions": actions_in_use()},
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    # Reasons are free text; one starting with = would run as a spreadsheet formula.
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@staff_required
def export(request: HttpRequest) -> StreamingHttpResponse:
    _form, entries = _filtered(request)
    writer = csv.writer(_Echo())

    def rows() -> Iterator[str]:
        yield writer.writerow(CSV_COLUMNS)
        for e in entries.iterator():
            yield writer.writerow(
                _cell(v)
                for v in (
                    timezone.localtime(e.created_at).isoformat(),
                    e.actor_name,
                    e.action,
                    e.target_type,
                    e.target_id,
                    e.target_label,
                    e.reason,
                    json.dumps(e.details, ensure_ascii=False, sort_keys=True, default=str),
                )
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    return response
