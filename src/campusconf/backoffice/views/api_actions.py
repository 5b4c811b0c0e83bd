"""The staff JSON API's write actions: the same functions the desk, the campaign pages
and the help desk call, each with a reason and audited.

A body reaches these views only once ``api_http`` has checked it against the
description (types, enums, required fields, lengths), so what remains here is what
depends on the data: a service or affiliation that does not exist, a start time that
has passed, a move the account, campaign or inquiry cannot make now — each a **409**
that changes nothing. The pages' forms then apply the pages' rules, with the pages'
messages; a form that still refuses is a 400.

CSRF: these views are exempt because the API does not read session cookies at all;
the token check answers 401 to anything without a valid bearer token, so only
token-authenticated requests ever reach a write.
"""

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.backoffice import campaigns, helpdesk
from campusconf.backoffice.campaign_forms import CohortForm, StartForm
from campusconf.backoffice.helpdesk_forms import InquiryStatusForm, ReplyForm
from campusconf.backoffice.remedies import RemedyQueued, RemedyRefused, apply_remedy
from campusconf.backoffice.views.api import _account, _campaign, _inquiry
from campusconf.backoffice.views.api_http import error
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import Campaign

CAMPAIGN_ACTIONS = {
    "pause": Campaign.Status.PAUSED,
    "resume": Campaign.Status.RUNNING,
    "cancel": Campaign.Status.CANCELLED,
}


class FormRefused(ValueError):
    pass


def _validated(form: forms.Form) -> dict[str, Any]:
    if not form.is_valid():
        problems = [
            f"{field}: {e['message']}" if field != "__all__" else e["message"]
            for field, errors in form.errors.get_json_data().items()
            for e in errors
        ]
        raise FormRefused("; ".join(problems))
    return form.cleaned_data


def _not_changed(message: str) -> JsonResponse:
    return error(_("Nothing was changed: %(why)s") % {"why": message}, 409)


def account_action(
    request: HttpRequest, body: dict[str, Any], pk: int, action: str
) -> JsonResponse:
    """resend, retry, reconcile, suspend, deprovision, reprovision — as on the desk."""
    account = Account.objects.select_related("member", "service").filter(pk=pk).first()
    if account is None:
        return error(_("No such account."), 404)
    try:
        actor = request.user
        assert isinstance(actor, AbstractBaseUser)  # api_http set the token's user
        apply_remedy(account, action, actor=actor, reason=body["reason"].strip(), origin="api")
    except RemedyRefused as refusal:
        return _not_changed(str(refusal))
    except RemedyQueued as queued:
        # Accepted, not done: the member waits for a seat and the engine does it then.
        account.refresh_from_db()
        return JsonResponse(
            {
                "detail": _(
                    "All seats of %(service)s are taken: the member waits at place "
                    "%(place)d; the %(action)s is carried out when a seat frees."
                )
                % {"service": account.service.slug, "place": queued.place, "action": action},
                "waiting_for_seat": queued.place,
                "account": _account(account),
            },
            status=202,
        )
    account.refresh_from_db()
    return JsonResponse(_account(account))


def _cohort_form(data: dict[str, Any], *, starting: bool) -> CohortForm:
    fields: dict[str, Any] = {
        "service": data["service"],
        "roles": data.get("roles", []),
        "affiliations": data.get("affiliations", []),
        "common_ids": "\n".join(data.get("common_ids", [])),
    }
    if "created_before" in data:
        fields["created_before"] = data["created_before"]
    if starting:
        fields["reason"] = data["reason"]
        if "start_at" in data:
            fields["start_at"] = parse_datetime(data["start_at"])
    return (StartForm if starting else CohortForm)(fields)


def _what_is_missing(form: CohortForm, data: dict[str, Any], starting: bool) -> str | None:
    """Why a well-formed body cannot be done now, or None."""
    if not form.fields["service"].queryset.filter(slug=data["service"]).exists():  # type: ignore[attr-defined]
        return _("there is no enabled service %(slug)s.") % {"slug": data["service"]}
    choices = form.fields["affiliations"]
    assert isinstance(choices, forms.MultipleChoiceField)
    unknown = [a for a in data.get("affiliations", []) if not choices.valid_value(a)]
    if unknown:
        return _("no member has the affiliation %(names)s.") % {"names": ", ".join(unknown)}
    start_at = form.data.get("start_at")
    if starting and start_at is not None and start_at <= timezone.now():
        return _("the start time has passed; leave it out to start now.")
    return None


def campaign_create(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    """Preview with ``"dry_run": true`` (changes nothing), or start (now or at
    ``start_at``) with a reason; the workers enrol it."""
    dry_run = body.get("dry_run", False)
    form = _cohort_form(body, starting=not dry_run)
    missing = _what_is_missing(form, body, not dry_run)
    if missing is not None:
        return _not_changed(missing)
    try:
        cleaned = _validated(form)
    except FormRefused as refusal:
        return error(str(refusal), 400)
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


def campaign_action(
    request: HttpRequest, body: dict[str, Any], pk: int, action: str
) -> JsonResponse:
    campaign = Campaign.objects.select_related("service").filter(pk=pk).first()
    if campaign is None:
        return error(_("No such campaign."), 404)
    try:
        campaigns.change_status(
            campaign,
            CAMPAIGN_ACTIONS[action],
            actor=request.user,  # type: ignore[arg-type]
            reason=body["reason"].strip(),
        )
    except campaigns.CampaignStateError:
        return _not_changed(
            _("the campaign is %(status)s.") % {"status": campaign.get_status_display()}
        )
    return JsonResponse(_campaign(campaign))


def _inquiry_or_none(pk: int) -> Inquiry | None:
    return Inquiry.objects.select_related("service", "member").filter(pk=pk).first()


def inquiry_reply(request: HttpRequest, body: dict[str, Any], pk: int) -> JsonResponse:
    """A reply: stored for the portal, mailed to the member, and the new status."""
    inquiry = _inquiry_or_none(pk)
    if inquiry is None:
        return error(_("No such inquiry."), 404)
    try:
        cleaned = _validated(
            ReplyForm({"body": body["body"], "status": body.get("status", Inquiry.Status.WAITING)})
        )
    except FormRefused as refusal:
        return error(str(refusal), 400)
    helpdesk.reply(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        body=cleaned["body"],
        status=cleaned["status"],
    )
    return JsonResponse(_inquiry(inquiry), status=201)


def inquiry_status(request: HttpRequest, body: dict[str, Any], pk: int) -> JsonResponse:
    inquiry = _inquiry_or_none(pk)
    if inquiry is None:
        return error(_("No such inquiry."), 404)
    try:
        cleaned = _validated(
            InquiryStatusForm({"status": body["status"], "reason": body["reason"]})
        )
    except FormRefused as refusal:
        return error(str(refusal), 400)
    helpdesk.set_status(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        status=cleaned["status"],
        reason=cleaned["reason"],
    )
    return JsonResponse(_inquiry(inquiry))
