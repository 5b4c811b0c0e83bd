""" "Retry all failed": one confirmation with a reason for a service's failed queue or
a campaign's failures; the work is ``remedies.retry_all``."""

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.backoffice import campaigns, queries
from campusconf.backoffice.forms import ReasonForm
from campusconf.backoffice.remedies import RETRY_ALL_LIMIT, retry_all
from campusconf.core.staff_access import staff_required
from campusconf.provisioning.models import Campaign
from campusconf.services.models import Service


@staff_required
def service_retry_failed(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    return _retry_failed(
        request,
        scope=service,
        action="service.retry_all_failed",
        failed=queries.failed_accounts(service),
        title=_("Retry all failed accounts of %(name)s") % {"name": service.name},
        back=redirect("backoffice:service", slug=service.slug),
    )


@staff_required
def campaign_retry_failed(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign.objects.select_related("service"), pk=pk)
    return _retry_failed(
        request,
        scope=campaign,
        action="campaign.retry_all_failed",
        failed=campaigns.failures(campaign).select_related("service").order_by("updated_at", "pk"),
        title=_("Retry all failed accounts of campaign #%(n)s") % {"n": campaign.pk},
        back=redirect("backoffice:campaign", pk=campaign.pk),
    )


def _retry_failed(
    request: HttpRequest,
    *,
    scope: Model,
    action: str,
    failed: QuerySet[Account],
    title: str,
    back: HttpResponse,
) -> HttpResponse:
    """GET: how many, a sample and the reason field. POST: retry them, then say how
    many were retried, queued for a seat and refused."""
    form = ReasonForm(request.POST or None)
    total = failed.count()
    if request.method == "POST" and form.is_valid():
        if not total:
            messages.info(request, _("Nothing was changed: there are no failed accounts."))
            return back
        outcome = retry_all(
            list(failed[:RETRY_ALL_LIMIT]),
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
            scope=scope,
            action=action,
            total=total,
        )
        summary = _(
            "Retry all failed: %(retried)s retried, %(queued)s queued for a seat "
            "(all seats are taken), %(refused)s refused (no longer failed)."
        ) % {
            "retried": len(outcome.retried),
            "queued": len(outcome.queued),
            "refused": len(outcome.refused),
        }
        if outcome.left:
            summary += " " + _("%(left)s more failed accounts were left for another round.") % {
                "left": outcome.left
            }
        level = messages.success if not (outcome.queued or outcome.refused) else messages.warning
        level(request, summary)
        return back
    return render(
        request,
        "backoffice/retry_failed.html",
        {
            "title": title,
            "total": total,
            "sample": failed[:20],
            "limit": RETRY_ALL_LIMIT,
            "form": form,
            "back": back["Location"],
        },
    )
