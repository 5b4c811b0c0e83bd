from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.backoffice import on_behalf, overview, queries
from campusconf.backoffice.forms import ReasonForm, SearchForm
from campusconf.backoffice.remedies import (
    REMEDIES,
    RemedyQueued,
    RemedyRefused,
    apply_remedy,
    offered,
)
from campusconf.core.staff_access import staff_required
from campusconf.members.models import Member
from campusconf.services.eligibility import check_eligibility
from campusconf.services.models import Service


@staff_required
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    term = form.cleaned_data["q"] if form.is_valid() else ""
    results = list(queries.search_accounts(term)[:100]) if term else []
    members = queries.search_members_without_account(term) if term else []
    return render(
        request,
        "backoffice/search.html",
        {"form": form, "term": term, "results": results, "members": members},
    )


@staff_required
def account_list(request: HttpRequest) -> HttpResponse:
    """The rows behind one of the dashboard's numbers, by the same named filter."""
    key = request.GET.get("filter", "")
    if key not in overview.FILTERS:
        raise Http404
    slug = request.GET.get("service", "")
    service = get_object_or_404(Service, slug=slug) if slug else None
    accounts = overview.accounts_matching(key, service, timezone.now())
    page = Paginator(accounts, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "backoffice/account_list.html",
        {"filter": overview.FILTERS[key], "service": service, "page": page, "slug": slug},
    )


@staff_required
def apply_on_behalf(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """GET: the confirmation page with the reason field. POST: apply through the engine."""
    applicant = get_object_or_404(Member, pk=pk)
    target = get_object_or_404(Service, slug=slug, enabled=True)
    # Bound on every POST: a POST without the field must show the error, not a blank form.
    form = ReasonForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            account = on_behalf.apply_on_behalf(
                applicant,
                target,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
            )
        except on_behalf.ApplyRefused as refusal:
            messages.error(request, _("Nothing was changed: %(why)s") % {"why": refusal})
        except on_behalf.ApplyQueued as queued:
            messages.warning(
                request,
                _(
                    "All seats of %(service)s are taken: %(member)s now waits at place "
                    "%(place)s in the seat queue, and the account is created when a seat frees."
                )
                % {"service": target.name, "member": applicant.common_id, "place": queued.place},
            )
        else:
            messages.success(
                request,
                _("Applied for %(service)s on behalf of %(member)s.")
                % {"service": target.name, "member": applicant.common_id},
            )
            return redirect("backoffice:account", pk=account.pk)
        return redirect(f"{reverse('backoffice:search')}?{urlencode({'q': applicant.common_id})}")
    return render(
        request,
        "backoffice/apply_on_behalf.html",
        {
            "member": applicant,
            "service": target,
            "eligibility": check_eligibility(applicant, target),
            "form": form,
        },
    )


def _account(pk: int) -> Account:
    return get_object_or_404(Account.objects.select_related("member", "service"), pk=pk)


@staff_required
def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account(pk)
    events = account.events.select_related("actor").order_by("-created_at", "-id")
    return render(
        request,
        "backoffice/account.html",
        {
            "account": account,
            "events": events,
            "remedies": offered(account),
            "last_checked_at": queries.last_checked_at(account.service),
        },
    )


@staff_required
def account_remedy(request: HttpRequest, pk: int, remedy: str) -> HttpResponse:
    """GET: the confirmation page with the reason field. POST: carry it out."""
    if remedy not in REMEDIES:
        raise Http404
    account = _account(pk)
    # Coming from the help desk: the inquiry is noted in the audit entry and we go back there.
    inquiry = request.POST.get("inquiry") or request.GET.get("inquiry") or ""
    inquiry = inquiry if inquiry.isdigit() else ""
    initial = {"reason": _("Inquiry #%(n)s") % {"n": inquiry}} if inquiry else {}
    form = ReasonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        context = {"origin": "helpdesk", "inquiry": int(inquiry)} if inquiry else {}
        try:
            apply_remedy(
                account,
                remedy,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                **context,
            )
        except RemedyRefused as refusal:
            messages.error(request, _("Nothing was changed: %(why)s") % {"why": refusal})
        except RemedyQueued as queued:
            messages.warning(
                request,
                _(
                    "All seats of %(service)s are taken: the member now waits at place "
                    "%(place)s in the seat queue, and “%(what)s” is carried out when a "
                    "seat frees."
                )
                % {
                    "service": account.service.name,
                    "place": queued.place,
                    "what": REMEDIES[remedy].label,
                },
            )
        else:
            messages.success(request, _("Done: %(what)s.") % {"what": REMEDIES[remedy].label})
        if inquiry:
            return redirect("backoffice:inquiry", pk=int(inquiry))
        return redirect("backoffice:account", pk=account.pk)
    return render(
        request,
        "backoffice/confirm.html",
        {"account": account, "remedy": REMEDIES[remedy], "form": form, "inquiry": inquiry},
    )
