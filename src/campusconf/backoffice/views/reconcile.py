from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from campusconf.backoffice import held_passes
from campusconf.backoffice.forms import ReasonForm
from campusconf.core.staff_access import staff_required
from campusconf.provisioning.models import ReconcilePass


class ApproveForm(ReasonForm):
    # The count the person reviewed: more than that now, and nothing is approved.
    expected = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


@staff_required
def held_pass(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """A held reconcile pass: what it would deprovision; approve with a reason."""
    held = get_object_or_404(
        ReconcilePass.objects.select_related("service"), pk=pk, service__slug=slug
    )
    form = ApproveForm(request.POST or None)
    if request.method == "POST" and held.status == ReconcilePass.Status.HELD and form.is_valid():
        try:
            result = held_passes.approve(
                held,
                actor=request.user,  # type: ignore[arg-type]
                reason=form.cleaned_data["reason"],
                expected=form.cleaned_data["expected"],
            )
        except held_passes.ApprovalRefused as refusal:
            messages.error(request, str(refusal))
        else:
            if result.status == ReconcilePass.Status.FAILED:
                messages.error(
                    request,
                    _("Approved, but the pass could not read the vendor: %(error)s")
                    % {"error": result.message},
                )
            else:
                messages.success(
                    request,
                    _("Approved: %(n)s accounts are being deprovisioned.")
                    % {"n": result.changes.get("deprovision", 0)},
                )
            return redirect("backoffice:service", slug=slug)
    review = held_passes.review(held)
    form.initial.setdefault("expected", review.would_deprovision)
    return render(request, "backoffice/held_pass.html", {"review": review, "form": form})
