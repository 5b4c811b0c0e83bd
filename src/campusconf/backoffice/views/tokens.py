from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campusconf.backoffice.forms import ReasonForm, TokenForm
from campusconf.backoffice.models import ApiToken
from campusconf.backoffice.tokens import issue_token, revoke_token
from campusconf.core.staff_access import staff_required


@staff_required
def token_list(request: HttpRequest) -> HttpResponse:
    """Your own tokens. A new one is shown on this page once, and never again."""
    form = TokenForm(request.POST or None)
    new_token = ""
    if request.method == "POST" and form.is_valid():
        _row, new_token = issue_token(
            request.user,  # type: ignore[arg-type]
            form.cleaned_data["name"],
            reason=form.cleaned_data["reason"],
        )
        form = TokenForm()
    tokens = ApiToken.objects.filter(user_id=request.user.pk or 0).order_by("-created_at")
    return render(
        request,
        "backoffice/tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token, "revoke_form": ReasonForm()},
    )


@staff_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(ApiToken, pk=pk, user_id=request.user.pk)
    form = ReasonForm(request.POST)
    if form.is_valid():
        revoke_token(row, actor=request.user, reason=form.cleaned_data["reason"])  # type: ignore[arg-type]
        messages.success(request, _("The token is revoked."))
    else:
        messages.error(request, _("Nothing was changed: a reason is required."))
    return redirect("backoffice:tokens")
