"""The staff JSON API's write actions: the same functions the desk, the campaign pages
and the help desk call, each with a reason and audited.

Bodies are JSON objects, validated by the same forms as the pages, so the rules (and
their messages) are the pages' rules. Bad input is a 400 that says what is wrong and
changes nothing; a move the account, campaign or inquiry cannot make is a 409.

CSRF: these views are exempt because the API does not read session cookies at all;
``token_required`` answers 401 to anything without a valid bearer token, so only
token-authenticated requests ever reach a write.
"""

import json
import re
from typing import Any

from django import forms
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from campusconf.accounts.models import Account
from campusconf.backoffice import campaigns, helpdesk
from campusconf.backoffice.campaign_forms import CohortForm, StartForm
from campusconf.backoffice.forms import ReasonForm
from campusconf.backoffice.helpdesk_forms import InquiryStatusForm, ReplyForm
from campusconf.backoffice.remedies import REMEDIES, RemedyQueued, RemedyRefused, apply_remedy
from campusconf.backoffice.views.api import (
    _account,
    _campaign,
    _error,
    _inquiry,
    campaign_list,
    token_required,
)
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import Campaign

COMMON_ID = re.compile(r"^[0-9]{10}$")
CAMPAIGN_ACTIONS = {
    "pause": Campaign.Status.PAUSED,
    "resume": Campaign.Status.RUNNING,
    "cancel": Campaign.Status.CANCELLED,
}


class BadInput(ValueError):
    pass


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _body(request: HttpRequest) -> dict[str, Any]:
    if request.content_type != "application/json":
        raise BadInput("send a JSON object with Content-Type: application/json")
    try:
        data = json.loads(request.body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadInput(f"the body is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise BadInput("the body must be a JSON object")
    if _has_nul(data):
        raise BadInput("text may not contain NUL characters")  # PostgreSQL cannot store them
    return data


def _validated(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        problems = [
            f"{field}: {e['message']}" if field != "__all__" else e["message"]
            for field, errors in form.errors.get_json_data().items()
            for e in errors
        ]
        raise BadInput("; ".join(problems))
    return form.cleaned_data


def _scalar(value: Any) -> Any:
    # Forms take text; a JSON number is fine as text, an object or list is not.
    if isinstance(value, dict | list):
        raise BadInput("expected a text value, got a JSON object or list")
    return value


def _reason(data: dict[str, Any]) -> str:
    reason: str = _validated(ReasonForm({"reason": _scalar(data.get("reason"))}))["reason"]
    return reason


@csrf_exempt
@token_required  # first: without a token, every method is a 401
@require_POST
def account_action(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    """resend, retry, reconcile, suspend, deprovision, reprovision — as on the desk."""
    if action not in REMEDIES:
        return _error(f"no action {action!r}; one of {', '.join(REMEDIES)}", 404)
    account = Account.objects.select_related("member", "service").filter(pk=pk).first()
    if account is None:
        return _error("no such account", 404)
    try:
        reason = _reason(_body(request))
        apply_remedy(account, action, actor=request.user, reason=reason, origin="api")  # type: ignore[arg-type]
    except BadInput as error:
        return _error(str(error), 400)
    except RemedyRefused as refusal:
        return _error(f"nothing was changed: {refusal}", 409)
    except RemedyQueued as queued:
        # Accepted, not done: the member waits for a seat and the engine does it then.
        account.refresh_from_db()
        return JsonResponse(
            {
                "detail": f"all seats of {account.service.slug} are taken: the member waits "
                f"at place {queued.place}; the {action} is carried out when a seat frees",
                "waiting_for_seat": queued.place,
                "account": _account(account),
            },
            status=202,
        )
    account.refresh_from_db()
    return JsonResponse(_account(account))


def _cohort_form(data: dict[str, Any], *, starting: bool) -> CohortForm:
    fields: dict[str, Any] = {}
    for key in ("service", "created_before", "reason", "start_at"):
        if data.get(key) is not None:
            fields[key] = _scalar(data[key])
    for key in ("roles", "affiliations"):
        value = data.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise BadInput(f"{key}: a list of text values")
        fields[key] = value
    ids = data.get("common_ids") or []
    if not isinstance(ids, list):
        raise BadInput("common_ids: a list of 10-digit common IDs")
    for n, common_id in enumerate(ids):
        if not isinstance(common_id, str) or not COMMON_ID.match(common_id):
            raise BadInput(f"common_ids[{n}]: not a 10-digit common ID")
    fields["common_ids"] = "\n".join(ids)
    return (StartForm if starting else CohortForm)(fields)


@csrf_exempt
@token_required  # first: without a token, every method is a 401
@require_POST
def campaign_create(request: HttpRequest) -> JsonResponse:
    """Preview with ``"dry_run": true`` (changes nothing), or start (now or at
    ``start_at``) with a reason; the workers enrol it."""
    try:
        data = _body(request)
        dry_run = data.get("dry_run", False)
        if not isinstance(dry_run, bool):
            raise BadInput("dry_run: true or false")
        form = _cohort_form(data, starting=not dry_run)
        cleaned = _validated(form)
    except BadInput as error:
        return _error(str(error), 400)
    service = cleaned["service"]
    if dry_run:
        p = campaigns.preview(service, form.cohort())
        return JsonResponse(
            {
                "dry_run": True,
                "in_cohort": p.in_cohort,
                "to_invite": p.to_invite,
                "already_live": p.already_live,
                "sample": [m.common_id for m in p.sample],
                "unknown_ids": p.unknown_ids,
            }
        )
    campaign = campaigns.start(
        service,
        form.cohort(),
        actor=request.user,  # type: ignore[arg-type]
        reason=cleaned["reason"],
        start_at=cleaned.get("start_at"),
    )
    return JsonResponse(_campaign(campaign), status=201)


@csrf_exempt
@token_required  # first: without a token, every method is a 401
@require_POST
def campaign_action(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    if action not in CAMPAIGN_ACTIONS:
        return _error(f"no action {action!r}; one of {', '.join(CAMPAIGN_ACTIONS)}", 404)
    campaign = Campaign.objects.select_related("service").filter(pk=pk).first()
    if campaign is None:
        return _error("no such campaign", 404)
    try:
        reason = _reason(_body(request))
        campaigns.change_status(
            campaign,
            CAMPAIGN_ACTIONS[action],
            actor=request.user,  # type: ignore[arg-type]
            reason=reason,
        )
    except BadInput as error:
        return _error(str(error), 400)
    except campaigns.CampaignStateError:
        return _error(f"nothing was changed: the campaign is {campaign.status}", 409)
    return JsonResponse(_campaign(campaign))


@csrf_exempt
def campaigns_root(request: HttpRequest) -> JsonResponse:
    """GET lists campaigns (read-only view); POST creates one."""
    if request.method == "POST":
        return campaign_create(request)
    return campaign_list(request)


def _inquiry_or_none(pk: int) -> Inquiry | None:
    return Inquiry.objects.select_related("service", "member").filter(pk=pk).first()


@csrf_exempt
@token_required  # first: without a token, every method is a 401
@require_POST
def inquiry_reply(request: HttpRequest, pk: int) -> JsonResponse:
    """A reply: stored for the portal, mailed to the member, and the new status."""
    inquiry = _inquiry_or_none(pk)
    if inquiry is None:
        return _error("no such inquiry", 404)
    try:
        data = _body(request)
        cleaned = _validated(
            ReplyForm(
                {
                    "body": _scalar(data.get("body")),
                    "status": _scalar(data.get("status", Inquiry.Status.WAITING)),
                }
            )
        )
    except BadInput as error:
        return _error(str(error), 400)
    helpdesk.reply(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        body=cleaned["body"],
        status=cleaned["status"],
    )
    return JsonResponse(_inquiry(inquiry), status=201)


@csrf_exempt
@token_required  # first: without a token, every method is a 401
@require_POST
def inquiry_status(request: HttpRequest, pk: int) -> JsonResponse:
    inquiry = _inquiry_or_none(pk)
    if inquiry is None:
        return _error("no such inquiry", 404)
    try:
        data = _body(request)
        cleaned = _validated(
            InquiryStatusForm(
                {"status": _scalar(data.get("status")), "reason": _scalar(data.get("reason"))}
            )
        )
    except BadInput as error:
        return _error(str(error), 400)
    helpdesk.set_status(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        status=cleaned["status"],
        reason=cleaned["reason"],
    )
    return JsonResponse(_inquiry(inquiry))
