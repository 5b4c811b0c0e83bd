"""The directory feed in the back office: roster upload, pending records, SCIM clients."""

import hashlib
import io

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.audit.actors import Actor
from campusconf.audit.log import record
from campusconf.backoffice.directory_forms import (
    HoldDecisionForm,
    RosterUploadForm,
    ScimClientForm,
)
from campusconf.backoffice.forms import ReasonForm
from campusconf.core.staff_access import staff_required
from campusconf.directory.models import ScimClient
from campusconf.directory.roster import RosterReport, import_roster
from campusconf.directory.scim.holds import (
    HoldNotApplied,
    approve_hold,
    pending_holds,
    reject_hold,
)
from campusconf.directory.scim.mapping import pending_records
from campusconf.directory.tokens import create_scim_client, revoke_scim_client

# Between the dry run and the confirm step the uploaded text waits in the (server-side,
# database-backed) session, capped at ROSTER_MAX_BYTES by the form. Asking for the file
# again would let staff confirm a different file from the one they checked; the digest
# posted back with the confirm button ties the confirmation to the checked text.
PENDING_ROSTER = "backoffice_pending_roster"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@staff_required
def roster_upload(request: HttpRequest) -> HttpResponse:
    """First POST: a dry run, nothing written. The confirm POST applies the same text."""
    report: RosterReport | None = None
    pending = request.session.get(PENDING_ROSTER)
    if request.method == "POST" and "confirm" in request.POST:
        if not pending or request.POST.get("digest") != pending["digest"]:
            request.session.pop(PENDING_ROSTER, None)
            messages.error(request, _("Nothing was changed: upload the roster and check it again."))
            return redirect("backoffice:directory_roster")
        report = import_roster(
            io.StringIO(pending["text"]),
            actor=Actor.person(request.user),  # type: ignore[arg-type]  # staff_required
            reason=pending["reason"],
            full=pending["full"],
            allow_mass_change=pending["allow_mass_change"],
            digest=pending["digest"],
        )
        if report.applied:
            del request.session[PENDING_ROSTER]
            messages.success(request, _("The roster is applied."))
            return redirect("backoffice:directory_roster")
        # The directory changed since the dry run: show why, and start over.
        request.session.pop(PENDING_ROSTER, None)
        form = RosterUploadForm()
        return render(request, "backoffice/directory_roster.html", {"form": form, "report": report})

    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        request.session.pop(PENDING_ROSTER, None)
        if form.is_valid():
            text = form.cleaned_data["roster"]
            full = form.cleaned_data["full"]
            allow = full and form.cleaned_data["allow_mass_change"]
            report = import_roster(
                io.StringIO(text),
                actor=Actor.person(request.user),  # type: ignore[arg-type]  # staff_required
                reason=form.cleaned_data["reason"],
                full=full,
                dry_run=True,
                allow_mass_change=allow,
            )
            if report.ok:
                pending = {
                    "text": text,
                    "digest": _digest(text),
                    "full": full,
                    "allow_mass_change": allow,
                    "reason": form.cleaned_data["reason"],
                }
                request.session[PENDING_ROSTER] = pending
                return render(
                    request,
                    "backoffice/directory_roster.html",
                    {"form": None, "report": report, "pending": pending},
                )
    return render(request, "backoffice/directory_roster.html", {"form": form, "report": report})


@staff_required
def pending_list(request: HttpRequest) -> HttpResponse:
    """Directory records from which no member could be made: they cannot sign in."""
    records = pending_records()[:500]
    return render(request, "backoffice/directory_pending.html", {"records": records})


@staff_required
def scim_clients(request: HttpRequest) -> HttpResponse:
    """The identity systems allowed to push members; a new token is shown once."""
    form = ScimClientForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        name = form.cleaned_data["name"]
        if ScimClient.objects.filter(name=name).exists():
            form.add_error("name", _("A client of that name exists already."))
        else:
            client, new_token = create_scim_client(name, form.cleaned_data["scopes"])
            record(
                request.user,
                "directory.scim_client_create",
                client,
                form.cleaned_data["reason"],
                scopes=client.scopes,
            )
            form = ScimClientForm()
    clients = ScimClient.objects.order_by("-created_at")
    return render(
        request,
        "backoffice/directory_scim.html",
        {"form": form, "clients": clients, "new_token": new_token},
    )


@staff_required
@require_POST
def scim_client_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_object_or_404(ScimClient, pk=pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        client = revoke_scim_client(client.name)
        record(request.user, "directory.scim_client_revoke", client, form.cleaned_data["reason"])
        messages.success(request, _("The SCIM client's token is revoked."))
    else:
        messages.error(request, _("Nothing was changed: a reason is required."))
    return redirect("backoffice:directory_scim")


@staff_required
def scim_holds(request: HttpRequest) -> HttpResponse:
    """Deactivations a SCIM client asked for past the mass-change guard: approve applies
    each as the client asked, reject drops it; both audited with the reason."""
    if request.method == "POST":
        form = HoldDecisionForm(request.POST)
        ids = [int(v) for v in request.POST.getlist("hold") if v.isdigit()]
        if not form.is_valid() or not ids:
            messages.error(request, _("Nothing was changed: choose requests and give a reason."))
            return redirect("backoffice:directory_scim_holds")
        decide = approve_hold if form.cleaned_data["decision"] == "approve" else reject_hold
        done = 0
        for hold_id in ids:
            try:
                decide(hold_id, actor=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
                done += 1
            except HoldNotApplied as refusal:
                messages.error(request, str(refusal))
        if done:
            messages.success(request, _("%(count)d requests decided.") % {"count": done})
        return redirect("backoffice:directory_scim_holds")
    return render(
        request,
        "backoffice/directory_holds.html",
        {"holds": pending_holds()[:500], "form": HoldDecisionForm()},
    )
