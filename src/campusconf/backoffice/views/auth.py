"""Staff sign-in: through the university's SSO like members, where the IdP's attribute
or claim grants staff rights; a password form only for the break-glass superuser, with
a one-time code (``signin.passwords``), throttled per address and locked out per
account by django-axes."""

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from campusconf.signin import sessions
from campusconf.signin.backends import oidc_enabled, saml_enabled
from campusconf.signin.passwords import BreakGlassLoginForm
from campusconf.signin.views import dev_login_enabled, throttled


class StaffLoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    authentication_form = BreakGlassLoginForm

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = throttled(request, "staff-login")
        if refusal is not None:
            return refusal
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:home")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context.update(
            # SSO and the development sign-in come back to the back office by default.
            next=context.get("next") or reverse("backoffice:home"),
            oidc=oidc_enabled(),
            saml=saml_enabled(),
            dev_login=dev_login_enabled(),
            session_ended=sessions.take_notice(self.request),
            # The emergency form stays folded unless it is being used.
            password_open=self.request.method == "POST",
        )
        return context


class StaffLogoutView(auth_views.LogoutView):
    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:login")
