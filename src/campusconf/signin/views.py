"""Sign-in pages: choose a way in, development sign-in, sign-out, and the refusal page.

The OpenID Connect and SAML endpoints are the libraries' views, wrapped so that they
exist only when configured, are rate-limited, and take answers only from the
university's IdPs (``signin.federation``).
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import login, logout
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST
from djangosaml2 import views as saml_views
from mozilla_django_oidc import views as oidc_views
from saml2.config import SPConfig

from campusconf.members.models import Member
from campusconf.signin import events, ratelimit, sessions
from campusconf.signin.backends import ASSERTED_ID_KEY, oidc_enabled, saml_enabled
from campusconf.signin.events import REFUSAL_SESSION_KEY
from campusconf.signin.federation import FederationRefused, accepted_saml_idps, bind_saml_assertion
from campusconf.signin.members import SignInRefused, message_for, sign_in_user
from campusconf.signin.saml import acs_failure

SESSION_BACKEND = "campusconf.signin.backends.DevelopmentSessionBackend"


def dev_login_enabled() -> bool:
    return bool(settings.DEBUG and getattr(settings, "CAMPUSCONF_DEV_LOGIN", False))


def _allowed(request: HttpRequest, scope: str) -> bool:
    limit, window = settings.CAMPUSCONF_SIGNIN_RATE_LIMIT
    return ratelimit.hit(scope, ratelimit.client_address(request), limit=limit, window=window)


def throttled(request: HttpRequest, scope: str) -> HttpResponse | None:
    """The 429 page once this address has used up its sign-in attempts, else None."""
    return None if _allowed(request, scope) else _refused(request, "too_many", status=429)


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse("portal:my_services")


def _refused(request: HttpRequest, code: str, status: int = 403) -> HttpResponse:
    return render(request, "signin/refused.html", {"message": message_for(code)}, status=status)


def signin(request: HttpRequest) -> HttpResponse:
    code = request.session.pop(REFUSAL_SESSION_KEY, "")
    return render(
        request,
        "signin/signin.html",
        {
            "refusal": message_for(code) if code else "",
            "session_ended": sessions.take_notice(request),
            "oidc": oidc_enabled(),
            "saml": saml_enabled(),
            "dev_login": dev_login_enabled(),
            "next": _safe_next(request),
        },
    )


def refused(request: HttpRequest) -> HttpResponse:
    code = request.session.pop(REFUSAL_SESSION_KEY, "failed")
    return _refused(request, code)


def dev_login(request: HttpRequest) -> HttpResponse:
    if not dev_login_enabled():
        raise Http404
    if request.method == "POST":
        if not _allowed(request, "dev-login"):
            return _refused(request, "too_many", status=429)
        try:
            user = sign_in_user(request.POST.get("common_id", "").strip())
        except SignInRefused as refusal:
            return _refused(request, refusal.code)
        # As if the university's sign-in said whether this person is IT staff.
        staff = request.POST.get("staff") == "1"
        events.note(request, events.SignInFacts("development", staff=staff))
        login(request, user, backend=SESSION_BACKEND)
        return redirect(_safe_next(request))
    query = request.GET.get("q", "").strip()
    members = Member.objects.order_by("common_id")
    if query:
        members = members.filter(
            Q(common_id__startswith=query)
            | Q(family_name_latin__icontains=query)
            | Q(given_name_latin__icontains=query)
            | Q(family_name_ja__icontains=query)
            | Q(given_name_ja__icontains=query)
        )
    return render(
        request,
        "signin/dev_login.html",
        # The whole sample university (about 60) fits, so its last members (the late
        # students, the one who left) can be chosen without knowing to search for them.
        {
            "members": members[:200],
            "query": query,
            "next": _safe_next(request),
            "staff": request.GET.get("staff") == "1",
        },
    )


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    # logout() flushes the session: its key and data are gone on the server too.
    logout(request)
    return redirect("home")


class OIDCStart(oidc_views.OIDCAuthenticationRequestView):  # type: ignore[misc,unused-ignore]  # an untyped library
    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        if not _allowed(request, "oidc"):
            return _refused(request, "too_many", status=429)
        response: HttpResponse = super().get(request)
        return response


class OIDCCallback(oidc_views.OIDCAuthenticationCallbackView):  # type: ignore[misc,unused-ignore]  # an untyped library
    @property
    def failure_url(self) -> str:
        return reverse("signin:refused")

    def get(self, request: HttpRequest) -> HttpResponse:
        if not oidc_enabled():
            raise Http404
        if not _allowed(request, "oidc-callback"):
            return _refused(request, "too_many", status=429)
        response: HttpResponse = super().get(request)
        return response

    def login_failure(self) -> HttpResponse:
        self.request.session.setdefault(REFUSAL_SESSION_KEY, "failed")
        return HttpResponseRedirect(self.failure_url)


class SamlLogin(saml_views.LoginView):  # type: ignore[misc,unused-ignore]  # an untyped library
    """Requests go only to an accepted IdP: the first, or the one ``?idp=`` names if it
    is accepted; the library would offer every IdP in the metadata."""

    config_loader_path = "campusconf.signin.saml.config_loader"

    def get_sp_config(self, request: HttpRequest) -> SPConfig:
        # Loaded once per request: checking the IdP and the library both need it.
        if not hasattr(self, "_sp_config"):
            self._sp_config = super().get_sp_config(request)
        return self._sp_config

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not saml_enabled():
            raise Http404
        if not _allowed(request, "saml"):
            return _refused(request, "too_many", status=429)
        if not request.user.is_authenticated:
            accepted = accepted_saml_idps(self.get_sp_config(request).metadata)
            chosen = request.GET.get("idp") or (accepted[0] if accepted else "")
            if chosen not in accepted:
                detail = "sign-in requested for it" if chosen else "no IdP is accepted"
                refusal = FederationRefused("idp_not_accepted", issuer=chosen, detail=detail)
                events.refused(request, refusal, method="saml")
                request.session.pop(REFUSAL_SESSION_KEY, None)  # told here, not again later
                return _refused(request, refusal.code)
            query = request.GET.copy()
            query["idp"] = chosen  # the library reads the IdP from the query
            request.GET = query  # type: ignore[assignment]
        response: HttpResponse = super().get(request, *args, **kwargs)
        return response


class SamlAcs(saml_views.AssertionConsumerServiceView):  # type: ignore[misc,unused-ignore]  # an untyped library
    config_loader_path = "campusconf.signin.saml.config_loader"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not saml_enabled():
            raise Http404
        if not _allowed(request, "saml-acs"):
            return _refused(request, "too_many", status=429)
        response: HttpResponse = super().post(request, *args, **kwargs)
        return response

    def custom_validation(self, response: Any) -> None:
        """The library checked the signature; here, whether the signer may speak for
        this person (``signin.federation``). Raising makes the library refuse."""
        try:
            self.asserted = bind_saml_assertion(response)
        except SignInRefused as refusal:
            events.refused(self.request, refusal, method="saml")
            raise

    def authenticate_user(
        self, request: HttpRequest, session_info: dict[str, Any], *args: Any
    ) -> Any:
        bound = {**session_info, ASSERTED_ID_KEY: self.asserted}
        return super().authenticate_user(request, bound, *args)

    def handle_acs_failure(
        self, request: HttpRequest, exception: Exception | None = None, status: int = 403, **kw: Any
    ) -> HttpResponse:
        return acs_failure(request, exception, status)


class SamlMetadata(saml_views.MetadataView):  # type: ignore[misc,unused-ignore]  # an untyped library
    config_loader_path = "campusconf.signin.saml.config_loader"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not saml_enabled():
            raise Http404
        response: HttpResponse = super().get(request, *args, **kwargs)
        return response


# The navigation in core/base.html links here; these words are kept in this app's
# catalogue so the links read in the member's language whatever the project catalogue holds.
NAV_WORDS = (_("Your account"), _("Sign out"), _("Sign in"), _("My services"), _("My inquiries"))
