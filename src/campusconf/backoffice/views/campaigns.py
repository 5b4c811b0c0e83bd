from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.audit.log import record
from campusconf.backoffice import campaign_preview as preview_rows
from campusconf.backoffice import campaigns
from campusconf.backoffice.campaign_forms import CohortForm, StartForm
from campusconf.backoffice.forms import ReasonForm
from campusconf.core.csv_export import csv_download
from campusconf.core.staff_access import staff_required
from campusconf.members import affiliations
from campusconf.members.roles import ROLE_LABELS
from campusconf.provisioning.models import Campaign

ACTIONS = {
    "pause": Campaign.Status.PAUSED,
    "resume": Campaign.Status.RUNNING,
    "cancel": Campaign.Status.CANCELLED,
}


@staff_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    rows = [
        (c, campaigns.progress(c))
        for c in Campaign.objects.select_related("service").order_by("-created_at")[:50]
    ]
    return render(request, "backoffice/campaigns.html", {"rows": rows})


PREVIEW_PAGE = 50


def _stored_form(stored: dict[str, Any]) -> CohortForm:
    """The preview's form, bound again to the cohort kept in the session."""
    cohort = stored["cohort"]
    data = MultiValueDict(
        {
            "service": [stored["service"]],
            "roles": cohort["roles"],
            "created_before": [cohort["created_before"] or ""],
            "affiliations": cohort["affiliations"],
            "common_ids": ["\n".join(cohort["common_ids"])],
        }
    )
    return CohortForm(data)


@staff_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Preview (the dry run) with "preview"; start with "start" and a reason.

    A preview is kept in the session and shown by GET ``?preview=<key>``, so a language
    switch or the next page of the list shows it again instead of an empty form."""
    starting = request.method == "POST" and "start" in request.POST
    key = request.GET.get("preview", "")
    stored = preview_rows.recall(request.session, key) if request.method == "GET" else None
    if stored is not None:
        form: CohortForm = _stored_form(stored)
    else:
        form_class = StartForm if starting else CohortForm
        form = form_class(request.POST or None, request.FILES or None)
    context: dict[str, object] = {"form": form}
    if request.method == "POST" and form.is_valid():
        service = form.cleaned_data["service"]
        if starting:
            campaign = campaigns.start(
                service,
                form.cohort(),
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                start_at=form.cleaned_data.get("start_at"),
            )
            return redirect("backoffice:campaign", pk=campaign.pk)
        key = preview_rows.remember(request.session, service, form.cohort())
        return redirect(
            f"{reverse('backoffice:campaign_new')}?{urlencode({'preview': key})}#preview"
        )
    if stored is not None and form.is_valid():
        service, cohort = form.cleaned_data["service"], form.cohort()
        context["preview"] = campaigns.preview(service, cohort)
        context["preview_key"] = key
        context["ids_text"] = "\n".join(form.cleaned_data["id_list"])
        every = list(preview_rows.rows(service, cohort))
        context["rows"] = Paginator(every, PREVIEW_PAGE).get_page(request.GET.get("page"))
        context["left_out"] = sum(1 for r in every if r.outcome == preview_rows.LEFT_OUT)
    elif key and stored is None:
        messages.warning(request, _("That preview is no longer kept; preview the cohort again."))
    return render(request, "backoffice/campaign_new.html", context)


@staff_required
def campaign_preview_csv(request: HttpRequest, key: str) -> HttpResponseBase:
    """Every member in the previewed cohort's scope: "invited", or why left out."""
    stored = preview_rows.recall(request.session, key)
    form = _stored_form(stored) if stored else None
    if form is None or not form.is_valid():
        raise Http404
    service, cohort = form.cleaned_data["service"], form.cohort()
    record(
        request.user,
        "campaign.export_preview",
        service,
        "CSV export",
        cohort=cohort.as_json(),
    )
    return csv_download(
        f"campaign-preview-{service.slug}.csv",
        preview_rows.CSV_COLUMNS,
        preview_rows.csv_rows(service, cohort),
        stream=True,
    )


def _campaign(pk: int) -> Campaign:
    return get_object_or_404(Campaign.objects.select_related("service"), pk=pk)


@staff_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(pk)
    return render(
        request,
        "backoffice/campaign.html",
        {
            "campaign": campaign,
            "cohort_roles": ", ".join(
                str(ROLE_LABELS.get(role, role)) for role in campaign.cohort.get("roles") or []
            ),
            "cohort_affiliations": ", ".join(
                affiliations.labels(campaign.cohort.get("affiliations") or [])
            ),
            "progress": campaigns.progress(campaign),
            "reason_form": ReasonForm(),
            "failures": campaigns.failures(campaign)[:20],
            "skips": campaigns.skips(campaign)[:20],
        },
    )


@staff_required
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress bar alone; htmx asks for it every few seconds. The heading's
    "N invited, N skipped" grows while the workers enrol, so it comes along out of band."""
    campaign = _campaign(pk)
    return render(
        request,
        "backoffice/_campaign_progress.html",
        {
            "oob": True,
            "campaign": campaign,
            "progress": campaigns.progress(campaign),
            "failures": campaigns.failures(campaign)[:20],
            "skips": campaigns.skips(campaign)[:20],
        },
    )


@staff_required
@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    campaign = _campaign(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Nothing was changed: a reason is required."))
        return redirect("backoffice:campaign", pk=campaign.pk)
    try:
        campaigns.change_status(
            campaign,
            ACTIONS[action],
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
        )
    except campaigns.CampaignStateError:
        messages.error(
            request,
            _("Nothing was changed: the campaign is %(status)s.")
            % {"status": campaign.get_status_display()},
        )
    else:
        messages.success(
            request, _("Campaign is now %(status)s.") % {"status": campaign.get_status_display()}
        )
    return redirect("backoffice:campaign", pk=campaign.pk)


@staff_required
def campaign_failures(request: HttpRequest, pk: int) -> HttpResponseBase:
    campaign = _campaign(pk)
    record(request.user, "campaign.export_failures", campaign, "CSV export")
    return csv_download(
        f"campaign-{campaign.pk}-failures.csv",
        campaigns.FAILURE_COLUMNS,
        campaigns.failure_rows(campaign),
    )
