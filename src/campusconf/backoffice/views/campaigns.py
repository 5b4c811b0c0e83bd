from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.audit.log import record
from campusconf.backoffice import campaigns
from campusconf.backoffice.campaign_forms import CohortForm, StartForm
from campusconf.backoffice.forms import ReasonForm
from campusconf.core.csv_export import csv_download
from campusconf.core.staff_access import staff_required
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


@staff_required
def campaign_new(request: HttpRequest) -> HttpResponse:
    """Preview (the dry run) with "preview"; start with "start" and a reason."""
    starting = request.method == "POST" and "start" in request.POST
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
        context["preview"] = campaigns.preview(service, form.cohort())
        context["ids_text"] = "\n".join(form.cleaned_data["id_list"])
    return render(request, "backoffice/campaign_new.html", context)


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
