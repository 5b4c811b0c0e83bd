"""The staff JSON API's reads: token in ``Authorization: Bearer …``; writes are in
``api_actions``."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.backoffice import campaigns, queries
from campusconf.backoffice.access import is_staff_user
from campusconf.backoffice.api_schema import MAX_OFFSET, SCHEMA
from campusconf.backoffice.tokens import user_for_token
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import Campaign

Handler = Callable[..., JsonResponse]


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def token_required(view: Handler) -> Handler:
    """No session cookies here: a member's signed-in browser gets 401 like anyone else."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        user = user_for_token(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            response = _error("a valid bearer token is required", 401)
            response["WWW-Authenticate"] = "Bearer"
            return response
        if not is_staff_user(user):
            return _error("this token's user has no staff rights", 403)
        # PostgreSQL text cannot hold NUL; a query carrying one can match nothing.
        if any("\x00" in value for value in request.GET.values()):
            return _error("query parameters may not contain NUL characters", 400)
        request.user = user
        return view(request, *args, **kwargs)

    return wrapped


class BadQuery(ValueError):
    pass


def _page(request: HttpRequest, qs: QuerySet[Any]) -> tuple[int, list[Any]]:
    try:
        limit = int(request.GET.get("limit", "100"))
        offset = int(request.GET.get("offset", "0"))
    except ValueError as error:
        raise BadQuery("limit and offset are whole numbers") from error
    if not 1 <= limit <= 500 or not 0 <= offset <= MAX_OFFSET:
        raise BadQuery(f"limit is 1 to 500; offset is 0 to {MAX_OFFSET}")
    return qs.count(), list(qs[offset : offset + limit])


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def _account(a: Account) -> dict[str, Any]:
    return {
        "id": a.pk,
        "common_id": a.member.common_id,
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
    try:
        count, rows = _page(request, qs)
    except BadQuery as error:
        return _error(str(error), 400)
    return JsonResponse({"count": count, "results": [render(r) for r in rows]})


@require_GET
def openapi(request: HttpRequest) -> JsonResponse:
    return JsonResponse(SCHEMA)


@require_GET
@token_required
def account_list(request: HttpRequest) -> JsonResponse:
    term = request.GET.get("q", "")
    qs = (
        queries.search_accounts(term)
        if term
        else Account.objects.select_related("member", "service")
    )
    if service := request.GET.get("service"):
        qs = qs.filter(service__slug=service)
    if state := request.GET.get("state"):
        if state not in State.values:
            return _error("unknown state", 400)
        qs = qs.filter(state=state)
    return _listing(request, qs.order_by("pk"), _account)


@require_GET
@token_required
def account_detail(request: HttpRequest, pk: int) -> JsonResponse:
    account = Account.objects.select_related("member", "service").filter(pk=pk).first()
    return JsonResponse(_account(account)) if account else _error("no such account", 404)


@require_GET
@token_required
def campaign_list(request: HttpRequest) -> JsonResponse:
    return _listing(request, Campaign.objects.select_related("service").order_by("pk"), _campaign)


@require_GET
@token_required
def campaign_detail(request: HttpRequest, pk: int) -> JsonResponse:
    campaign = Campaign.objects.select_related("service").filter(pk=pk).first()
    return JsonResponse(_campaign(campaign)) if campaign else _error("no such campaign", 404)


@require_GET
@token_required
def inquiry_list(request: HttpRequest) -> JsonResponse:
    qs = Inquiry.objects.select_related("service").order_by("pk")
    if status := request.GET.get("status"):
        if status not in Inquiry.Status.values:
            return _error("unknown status", 400)
        qs = qs.filter(status=status)
    return _listing(request, qs, _inquiry)
