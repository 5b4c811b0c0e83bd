"""Member portal views: thin — they find the member's own rows, then call one action."""

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.models import User
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string, select_template
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.accounts.lifecycle import AccountAlreadyLive
from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.portal import live
from campusconf.portal.forms import InquiryForm, MemberReplyForm
from campusconf.portal.inquiries import member_reply, open_inquiry, suggested_text
from campusconf.portal.models import Inquiry
from campusconf.portal.next_step import NextStep, next_step
from campusconf.portal.outbox import refused_for_account
from campusconf.provisioning.engine import watch
from campusconf.provisioning.verbs import actions, google_sign_in, seats
from campusconf.services.catalogue import enabled_services
from campusconf.services.models import Service
from campusconf.signin import ratelimit
from campusconf.signin.middleware import signed_in_member

View = Callable[..., HttpResponseBase]
POST_LIMIT = (20, 60)  # state-changing requests per member per minute


def member_required(view: View) -> View:
    """Only a signed-in, active member; ``request.member`` is theirs and nobody else's."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        member = signed_in_member(request) if user.is_authenticated else None
        if member is None or member.user_id != user.pk:
            # Read here only when the middleware found nobody or read for another user.
            member = Member.objects.filter(user_id=user.pk).first() if user.pk else None
        if member is None or member.status != Member.Status.ACTIVE:
            target = reverse("signin:signin") + "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        request.member = member  # type: ignore[attr-defined]
        if request.method == "POST" and not ratelimit.hit(
            "portal", str(member.pk), limit=POST_LIMIT[0], window=POST_LIMIT[1]
        ):
            messages.error(request, _("Too many requests. Please wait a minute and try again."))
            return redirect("portal:my_services")
        return view(request, *args, **kwargs)

    return wrapper


def _member(request: HttpRequest) -> Member:
    member: Member = request.member  # type: ignore[attr-defined]
    return member


def _actor(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None


def _enabled_service(slug: str) -> Service:
    return get_object_or_404(Service, slug=slug, enabled=True)


def _card_message(slug: str) -> str:
    """The tag of a confirmation about one card: the page shows it above the cards, and
    the card's refresh removes it once the card has moved on (``card``)."""
    return f"card-{slug}"


@member_required
def my_services(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    now = clock.now()
    prefetch_related_objects([member], "addresses")
    accounts = {}
    mailbox_refused = False
    for account in Account.objects.filter(member=member).annotate(
        mailbox_refused=refused_for_account()
    ):
        account.member = member  # the cards read its addresses: no second fetch
        accounts[account.service_id] = account
        mailbox_refused = mailbox_refused or account.mailbox_refused
    services = enabled_services()
    steps = [next_step(member, s, accounts.get(s.pk), now) for s in services]
    _looking(steps)
    # Reading them here leaves them for the template: they are cleared after the answer.
    noted = {m.extra_tags for m in messages.get_messages(request) if m.extra_tags}
    return render(
        request,
        "portal/my_services.html",
        {
            "member": member,
            "steps": steps,
            "poll_seconds": live.POLL_SECONDS,
            # The university's server refuses the member's mail: say so above the cards.
            "mailbox_refused": mailbox_refused,
            # The cards a confirmation above is about: their refresh takes it away.
            "noted_cards": {
                s.service.slug for s in steps if _card_message(s.service.slug) in noted
            },
        },
    )


def _looking(steps: list[NextStep]) -> None:
    """The member has these cards open: their waiting accounts are read soon."""
    waiting = [s.account.pk for s in steps if s.account is not None and live.version(s)]
    if waiting:
        watch.looked_at(waiting)


@member_required
def card(request: HttpRequest, slug: str) -> HttpResponse:
    """One service's card, for its own refresh (htmx): 204 while it shows what it did
    (``live.version``), else the card and, for the page's live region, what changed.

    The version is the card's validator: sent as ``?v=`` (htmx swaps nothing on 204) or
    as ``If-None-Match`` (304, for a client that revalidates; htmx would swap a 304 in
    as an empty card). An unchanged card is told from the account's row alone."""
    member = _member(request)
    # The cached catalogue: a poll costs no read of the services.
    service = next((s for s in enabled_services() if s.slug == slug), None)
    if service is None:
        raise Http404
    account = Account.objects.filter(member=member, service=service).first()
    asked = parse_etags(request.headers.get("If-None-Match", ""))
    shown = request.GET.get("v", "") or (asked[0].strip('"') if len(asked) == 1 else "")
    if live.unchanged(account, shown):
        assert account is not None  # for the type checker: unchanged() says so
        watch.looked_at([account.pk])
        return _unchanged_card(request, shown)
    prefetch_related_objects([member], "addresses")
    if account is not None:
        account.member = member  # the card reads its addresses: no second fetch
    step = next_step(member, service, account, clock.now())
    _looking([step])
    version = live.version(step)
    if shown and shown == version:
        return _unchanged_card(request, shown)
    # The state's words as the badge shows them, for the live region's sentence.
    news = render_to_string("portal/state_label.html", {"step": step}).strip() if shown else ""
    context = {
        "step": step,
        "poll_seconds": live.POLL_SECONDS,
        "news": news,
        # The confirmation above the cards was about the card as it was: it goes (an
        # out-of-band delete, sent only when the page said it shows one).
        "drop_message": _card_message(slug) if news and request.GET.get("m") else "",
    }
    response = render(request, "portal/_card.html", context)
    if version:
        response["ETag"] = quote_etag(version)
    # A card is the member's own state: no cache, shared or private, may keep it.
    patch_cache_control(response, no_store=True, private=True)
    return response


def _unchanged_card(request: HttpRequest, shown: str) -> HttpResponse:
    response = HttpResponse(status=204 if request.GET.get("v") else 304)
    response["ETag"] = quote_etag(shown)
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_POST
@member_required
def apply(request: HttpRequest, slug: str) -> HttpResponse:
    member, service = _member(request), _enabled_service(slug)
    try:
        actions.apply_for_service(member, service, cause=Cause.MEMBER, actor=_actor(request))
    except actions.NotEligible as refusal:
        messages.error(request, str(refusal))
    except AccountAlreadyLive:
        messages.info(
            request,
            _("You already have an account at %(service)s.") % {"service": service.name},
            extra_tags=_card_message(service.slug),
        )
    except actions.WaitingForSeat as wait:
        messages.info(
            request,
            _(
                "All %(service)s licences are in use. You are number %(place)s in the queue; "
                "we will write to you when a licence is yours."
            )
            % {"service": service.name, "place": wait.place},
            extra_tags=_card_message(service.slug),
        )
    else:
        messages.success(
            request,
            _("We received your application for %(service)s. Your account is being created.")
            % {"service": service.name},
            extra_tags=_card_message(service.slug),
        )
    return redirect(reverse("portal:my_services") + f"#service-{service.slug}")


@require_POST
@member_required
def leave_queue(request: HttpRequest, slug: str) -> HttpResponse:
    member, service = _member(request), _enabled_service(slug)
    if seats.leave_queue(member, service):
        messages.success(
            request,
            _("You left the queue for %(service)s. You can apply again at any time.")
            % {"service": service.name},
        )
    else:
        # A seat came meanwhile (or the queue was left in another tab): show the card now.
        messages.info(
            request, _("You were no longer waiting for %(service)s.") % {"service": service.name}
        )
    return redirect(reverse("portal:my_services") + f"#service-{service.slug}")


@require_POST
@member_required
def resend(request: HttpRequest, slug: str) -> HttpResponse:
    member, service = _member(request), _enabled_service(slug)
    # Only the member's own account at this service: no id from the request is trusted.
    account = get_object_or_404(Account, member=member, service=service)
    allowed, reason = actions.resend_allowed(account, clock.now())
    if not allowed:
        messages.error(request, reason)
    else:
        # A user who signed in gets no new invitation: the job gives the licence back
        # (and, after a changed address, the address too; S9, S13).
        repair = (
            account.state == State.UNLICENSED and account.observed_state == Account.Observed.ACTIVE
        )
        try:
            actions.resend_invitation(account, cause=Cause.MEMBER, actor=_actor(request))
        except actions.IllegalTransition:
            # The engine moved the account on since the page was drawn: show the new step.
            messages.error(request, _("Your account changed meanwhile; here is its state now."))
        else:
            messages.success(
                request,
                _(
                    "We are giving your %(service)s account its university licence back; "
                    "no mail is needed. This page shows it within a minute."
                )
                % {"service": service.name}
                if repair
                else _("A new invitation for %(service)s is on its way to %(address)s.")
                % {"service": service.name, "address": member.mail_address},
                extra_tags=_card_message(service.slug),
            )
    return redirect(reverse("portal:my_services") + f"#service-{service.slug}")


@require_POST
@member_required
def chose_google(request: HttpRequest, slug: str) -> HttpResponse:
    """ "I chose Sign in with Google" (S12): Zoom cannot show it, so the member says it."""
    member, service = _member(request), _enabled_service(slug)
    account = get_object_or_404(Account, member=member, service=service)
    try:
        sent = google_sign_in.report_google_sign_in(account, actor=_actor(request))
    except actions.IllegalTransition:
        messages.error(request, _("Your account changed meanwhile; here is its state now."))
    else:
        if sent:
            messages.success(
                request,
                _(
                    "Thank you. Zoom is sending a new mail to %(address)s: it asks your Zoom "
                    "account to join the university's. Press “Approve Request” in it, then "
                    "“Confirm and Switch”."
                )
                % {"address": member.mail_address},
                extra_tags=_card_message(service.slug),
            )
        else:
            messages.info(
                request,
                _(
                    "Thank you, we have noted it. A new mail can be sent once the waiting "
                    "time below has passed; or fix it yourself at Zoom as described below."
                ),
                extra_tags=_card_message(service.slug),
            )
    return redirect(reverse("portal:my_services") + f"#service-{service.slug}")


@require_POST
@member_required
def released(request: HttpRequest, slug: str) -> HttpResponse:
    """The member says the account that held the address elsewhere is let go."""
    member, service = _member(request), _enabled_service(slug)
    account = get_object_or_404(Account, member=member, service=service)
    allowed, reason = actions.released_allowed(account, clock.now())
    if not allowed:
        messages.error(request, reason)
    else:
        try:
            actions.released_elsewhere(account, cause=Cause.MEMBER, actor=_actor(request))
        except actions.IllegalTransition:
            messages.error(request, _("Your account changed meanwhile; here is its state now."))
        else:
            messages.success(
                request,
                _("We are asking %(service)s again to create your account.")
                % {"service": service.name},
                extra_tags=_card_message(service.slug),
            )
    return redirect(reverse("portal:my_services") + f"#service-{service.slug}")


@member_required
def inquiries(request: HttpRequest) -> HttpResponse:
    own = Inquiry.objects.filter(member=_member(request)).select_related("service")
    return render(request, "portal/inquiries.html", {"inquiries": own})


@member_required
def inquiry_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Filtering by member makes another member's inquiry a plain 404: its existence is not told.
    inquiry = get_object_or_404(Inquiry, pk=pk, member=_member(request))
    form = MemberReplyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        member_reply(inquiry, form.cleaned_data["body"])
        messages.success(request, _("Your reply was sent to the help desk."))
        return redirect("portal:inquiry_detail", pk=inquiry.pk)
    replies = inquiry.replies.all()
    return render(
        request,
        "portal/inquiry_detail.html",
        {"inquiry": inquiry, "replies": replies, "form": form},
    )


@member_required
def inquiry_new(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    if request.method == "POST":
        form = InquiryForm(request.POST)
        if form.is_valid():
            inquiry = open_inquiry(
                member,
                form.cleaned_data["service"],
                form.cleaned_data["topic"],
                form.cleaned_data["what_happened"],
            )
            messages.success(request, _("Your inquiry was sent to the help desk."))
            return redirect("portal:inquiry_detail", pk=inquiry.pk)
    else:
        slug = request.GET.get("service", "")
        service = Service.objects.filter(slug=slug, enabled=True).first()
        topic = request.GET.get("topic", Inquiry.Topic.OTHER)
        if topic not in Inquiry.Topic.values:
            topic = Inquiry.Topic.OTHER
        form = InquiryForm(
            initial={
                "service": service,
                "topic": topic,
                "what_happened": suggested_text(member, service, topic),
            }
        )
    return render(request, "portal/inquiry_new.html", {"form": form, "member": member})


def help_page(request: HttpRequest, slug: str) -> HttpResponse:
    service = _enabled_service(slug)
    language = translation.get_language() or "ja"
    try:
        template = select_template(
            [
                f"portal/help/{service.vendor}.{language[:2]}.html",
                f"portal/help/{service.vendor}.en.html",
            ]
        )
    except TemplateDoesNotExist as missing:
        raise Http404 from missing
    return HttpResponse(template.render({"service": service}, request))
