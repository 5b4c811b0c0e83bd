from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.audit.log import record
from campusconf.backoffice import charts, overview, queries
from campusconf.backoffice.forms import LicenceTermsForm
from campusconf.backoffice.licences import TERMS, update_licence_terms
from campusconf.backoffice.service_problems import banner_for, open_banners
from campusconf.core.csv_export import csv_download
from campusconf.core.staff_access import staff_required
from campusconf.provisioning.verbs import licence_end, seats
from campusconf.services.models import Service


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    services = list(Service.objects.order_by("display_order", "slug"))
    banners = open_banners(services)
    now = timezone.now()
    days, series = overview.state_history(None)
    chart = charts.grouped_bars(
        _("Accounts by state at the end of each day, last 30 days, all services"),
        [d.strftime("%m-%d") for d in days],
        [(str(name), values) for name, values in series],
    )
    return render(
        request,
        "backoffice/home.html",
        {
            "banners": [(s, banners[s.pk]) for s in services if banners.get(s.pk)],
            # Their cards say "paused" too: the banner above may be scrolled past.
            "paused": {s.pk for s in services if banners.get(s.pk)},
            "rows": overview.rows(services, now),
            "filters": overview.FILTERS,
            "chart": chart,
            "now": now,
        },
    )


@staff_required
def service_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    days = queries.daily_activity(service)
    chart = charts.grouped_bars(
        _("Applications and activations per day, last 30 days"),
        [d.day.strftime("%m-%d") for d in days],
        [
            (_("Applications"), [d.applications for d in days]),
            (_("Activations"), [d.activations for d in days]),
        ],
    )
    return render(
        request,
        "backoffice/service.html",
        {
            "service": service,
            "by_state": queries.accounts_by_state(service),
            "used": queries.seats_used(service),
            "queues": queries.attention_queues(service),
            "chart": chart,
            "banner": banner_for(service),
        },
    )


@staff_required
def licence_terms(request: HttpRequest, slug: str) -> HttpResponse:
    service = get_object_or_404(Service, slug=slug)
    form = LicenceTermsForm(request.POST or None, instance=Service.objects.get(pk=service.pk))
    if request.method == "POST" and form.is_valid():
        update_licence_terms(
            service,
            actor=request.user,  # type: ignore[arg-type]
            reason=form.cleaned_data["reason"],
            **{name: form.cleaned_data[name] for name in TERMS},
        )
        return redirect("backoffice:service", slug=service.slug)
    waiting = seats.waiting(service).select_related("member").order_by("created_at", "id")
    notice_from = service.valid_until - licence_end.NOTICE_BEFORE if service.valid_until else None
    return render(
        request,
        "backoffice/licence_terms.html",
        {
            "service": service,
            "form": form,
            "used": seats.seats_used(service),
            "waiting": waiting[:20],
            "waiting_count": waiting.count(),
            "notice_from": notice_from,
            "notice_sent": service.valid_until is not None
            and service.licence_notice_sent_for == service.valid_until,
            "end_applied": service.valid_until is not None
            and service.licence_end_applied_for == service.valid_until,
        },
    )


EXPORT_COLUMNS = [
    "common_id",
    "name",
    "affiliation",
    "affiliation_ja",
    "roles",
    "state",
    "vendor_user_id",
    "vendor_address",
    "observed_licensed",
    "invitation_sent_at",
    "activated_at",
    # The same for every row: passes are booked per service, not per account.
    "service_last_checked_against_vendor_at",
]


@staff_required
def export_accounts(request: HttpRequest, slug: str) -> HttpResponseBase:
    """Accounts of one service for finance and the licence true-up."""
    service = get_object_or_404(Service, slug=slug)
    accounts = (
        Account.objects.filter(service=service)
        .select_related("member")
        .order_by("member__common_id")
    )
    checked = queries.last_checked_at(service)
    rows = (
        (
            a.member.common_id,
            a.member.display_name_latin,
            a.member.affiliation,
            a.member.affiliation_ja,
            a.member.roles,
            a.state,
            a.vendor_user_id,
            a.vendor_address,
            a.observed_licensed,
            a.invitation_sent_at,
            a.activated_at,
            checked,
        )
        for a in accounts.iterator()
    )
    # Exports carry personal data; who took one is worth knowing.
    record(request.user, "service.export_accounts", service, "CSV export")
    return csv_download(f"accounts-{service.slug}.csv", EXPORT_COLUMNS, rows)
