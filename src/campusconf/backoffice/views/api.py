"""The staff JSON API's reads; writes are in ``api_actions``, the HTTP side (token,
methods, input checks, language) in ``api_http``."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.backoffice import campaigns, queries
from campusconf.backoffice.api_schema import SCHEMA
from campusconf.backoffice.views.api_http import error, translated
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import Campaign


def _page(request: HttpRequest, qs: QuerySet[Any]) -> tuple[int, list[Any]]:
    # Checked against the description already: whole numbers within their bounds.
    limit = int(request.GET.get("limit", "100"))
    offset = int(request.GET.get("offset", "0"))
    return qs.count(), list(qs[offset : offset + limit])


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def _account(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk,
        "common_id": a.member.common_id,
        "affiliation": a.member.affiliation,
        "affiliation_ja": a.member.affiliation_ja,
        "service": a.service.slug,
        "state": a.state,
        "desired_state": a.desired_state,
        "observed_state": a.observed_state,
        "vendor_user_id": a.vendor_user_id,
        "vendor_address": a.vendor_address,
        "invitation_sent_at": _time(a.invitation_sent_at),
        "invitation_expires_at": _time(a.invitation_expires_at),
        "activated_at": _time(a.activated_at),
        "last_error_code": a.last_error_code,
        "last_error_message": a.last_error_message,
        "last_error_reason": a.last_error_reason,
    }


def _campaign(c: Campaign) -> dict[str, Any]:
    p = campaigns.progress(c)
    return {
        "id": c.pk,
        "service": c.service.slug,
        "status": c.status,
        "cohort": c.cohort,
        "planned": c.planned,
        "skipped": c.skipped,
        "done": p.done,
        "failed": p.failed,
        "remaining": p.remaining,
        # Without these a campaign whose vendor answers 5xx looks idle to a script too.
        "retrying": p.retrying,
        "last_error": p.last_error,
        "waiting_for_seat": p.waiting,
        "per_minute": round(p.per_minute, 1),
        "finish_at": _time(p.finish_at),  # Zoom's daily create cap included
        "start_at": _time(c.start_at),
        "created_at": c.created_at.isoformat(),
    }


def _inquiry(i: Inquiry) -> dict[str, Any]:
    return {
        "id": i.pk,
        "common_id": i.common_id,
        "affiliation": i.affiliation,
        "affiliation_ja": i.affiliation_ja,
        "service": i.service.slug if i.service else None,
        "account_id": i.account_id,
        "topic": i.topic,
        "status": i.status,
        "account_state_when_asked": i.account_state,
        "what_happened": i.what_happened,
        "created_at": i.created_at.isoformat(),
    }


def _listing(
    request: HttpRequest, qs: QuerySet[Any], render: Callable[[Any], dict[str, Any]]
) -> JsonResponse:
    count, rows = _page(request, qs)
    return JsonResponse({"count": count, "results": [render(r) for r in rows]})


@translated
def openapi(request: HttpRequest) -> HttpResponse:
    """The description, open to all: it says how to call, not what is there."""
    if request.method not in ("GET", "HEAD"):
        response = error(
            _("This address does not take %(method)s.") % {"method": request.method}, 405
        )
        response["Allow"] = "GET, HEAD"
        return response
    return JsonResponse(SCHEMA)


def account_list(request: HttpRequest, body: None) -> JsonResponse:
    term = request.GET.get("q", "")
    qs = (
        queries.search_accounts(term)
        if term
        else Account.objects.select_related("member", "service")
    )
    if "service" in request.GET:
        qs = qs.filter(service__slug=request.GET["service"])
    if "state" in request.GET:
        qs = qs.filter(state=request.GET["state"])
    return _listing(request, qs.order_by("pk"), _account)


def account_detail(request: HttpRequest, body: None, pk: int) -> JsonResponse:
    account = Account.objects.select_related("member", "service").filter(pk=pk).first()
    return JsonResponse(_account(account)) if account else error(_("No such account."), 404)


def campaign_list(request: HttpRequest, body: None) -> JsonResponse:
    return _listing(request, Campaign.objects.select_related("service").order_by("pk"), _campaign)


def campaign_detail(request: HttpRequest, body: None, pk: int) -> JsonResponse:
    campaign = Campaign.objects.select_related("service").filter(pk=pk).first()
    return JsonResponse(_campaign(campaign)) if campaign else error(_("No such campaign."), 404)


def inquiry_list(request: HttpRequest, body: None) -> JsonResponse:
    qs = Inquiry.objects.select_related("service").order_by("pk")
    if "status" in request.GET:
        qs = qs.filter(status=request.GET["status"])
    return _listing(request, qs, _inquiry)
