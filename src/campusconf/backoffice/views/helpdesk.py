from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.backoffice import helpdesk
from campusconf.backoffice.helpdesk_forms import InquiryStatusForm, ReplyForm
from campusconf.backoffice.remedies import REMEDIES, legal
from campusconf.core.staff_access import staff_required
from campusconf.portal.models import Inquiry
from campusconf.services.models import Service

# The remedies a help-desk answer usually needs (S13: resend; retry; reconcile).
INQUIRY_REMEDIES = ("resend", "retry", "reconcile")


@staff_required
def inquiries(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    qs = Inquiry.objects.select_related("member", "service", "account")
    # The dashboard links here per service; "open" there is what "not resolved" is here.
    service = Service.objects.filter(slug=request.GET.get("service", "")).first()
    if service is not None:
        qs = qs.filter(service=service)
    if status in Inquiry.Status.values:
        qs = qs.filter(status=status)
    else:
        status = ""
        qs = qs.exclude(status=Inquiry.Status.RESOLVED)
    return render(
        request,
        "backoffice/inquiries.html",
        {
            "inquiries": qs[:200],
            "count": qs.count(),
            "status": status,
            "statuses": Inquiry.Status.choices,
            "service": service,
        },
    )


def _inquiry(pk: int) -> Inquiry:
    return get_object_or_404(Inquiry.objects.select_related("member", "service", "account"), pk=pk)


@staff_required
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry(pk)
    offered = {c.key for c in helpdesk.canned_offered(inquiry.account)}
    canned = request.GET.get("canned", "")
    canned = canned if canned in offered else ""
    reply_form = ReplyForm(
        initial={
            "body": helpdesk.canned_text(canned, inquiry.member.preferred_language),
            "status": "resolved" if canned == "resolved" else "waiting",
            "canned": canned,
        }
    )
    return _render_detail(
        request, inquiry, reply_form, InquiryStatusForm(initial={"status": inquiry.status})
    )


def _render_detail(
    request: HttpRequest,
    inquiry: Inquiry,
    reply_form: ReplyForm,
    status_form: InquiryStatusForm,
) -> HttpResponse:
    account = inquiry.account
    events = (
        account.events.select_related("actor").order_by("-created_at", "-id") if account else []
    )
    other_accounts = inquiry.member.accounts.select_related("service").order_by(
        "service__display_order"
    )
    remedy_links = (
        [
            (
                REMEDIES[slug],
                reverse("backoffice:account_remedy", args=[account.pk, slug])
                + f"?inquiry={inquiry.pk}",
            )
            for slug in INQUIRY_REMEDIES
            if legal(account, REMEDIES[slug])  # as on the account page: only what fits
        ]
        if account
        else []
    )
    return render(
        request,
        "backoffice/inquiry.html",
        {
            "inquiry": inquiry,
            "account": account,
            "events": events,
            "other_accounts": other_accounts,
            "replies": inquiry.replies.select_related("author"),
            "remedy_links": remedy_links,
            "canned": helpdesk.canned_offered(account),
            "canned_remedy": _canned_remedy(reply_form),
            "reply_form": reply_form,
            "status_form": status_form,
        },
    )


def _canned_remedy(form: ReplyForm) -> str:
    """The remedy the reply will carry out when sent, to say so beside the button."""
    key = (form.data.get("canned") if form.is_bound else form.initial.get("canned")) or ""
    canned = helpdesk.CANNED.get(key)
    return str(REMEDIES[canned.remedy].label) if canned and canned.remedy else ""


@staff_required
@require_POST
def inquiry_reply(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry(pk)
    form = ReplyForm(request.POST)
    if not form.is_valid():
        return _render_detail(
            request, inquiry, form, InquiryStatusForm(initial={"status": inquiry.status})
        )
    canned = form.cleaned_data["canned"]
    if canned in helpdesk.CANNED:
        try:
            helpdesk.reply_canned(
                inquiry,
                canned,
                actor=request.user,  # type: ignore[arg-type]
                body=form.cleaned_data["body"],
                status=form.cleaned_data["status"],
            )
        except helpdesk.CannedRefused as refusal:
            messages.error(request, _("Nothing was sent or changed: %(why)s") % {"why": refusal})
            return redirect("backoffice:inquiry", pk=inquiry.pk)
        label = helpdesk.CANNED[canned].label
        messages.success(request, _("Reply sent, and done: %(what)s.") % {"what": label})
        return redirect("backoffice:inquiry", pk=inquiry.pk)
    helpdesk.reply(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        body=form.cleaned_data["body"],
        status=form.cleaned_data["status"],
    )
    messages.success(request, _("Reply sent."))
    return redirect("backoffice:inquiry", pk=inquiry.pk)


@staff_required
@require_POST
def inquiry_status(request: HttpRequest, pk: int) -> HttpResponse:
    inquiry = _inquiry(pk)
    form = InquiryStatusForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, inquiry, ReplyForm(), form)
    helpdesk.set_status(
        inquiry,
        actor=request.user,  # type: ignore[arg-type]
        status=form.cleaned_data["status"],
        reason=form.cleaned_data["reason"],
    )
    messages.success(request, _("Status changed."))
    return redirect("backoffice:inquiry", pk=inquiry.pk)
