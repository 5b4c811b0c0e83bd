"""Authentication backends: the university's OpenID provider and SAML IdP name a common ID.

Both bind the asserted identifier to the IdP that asserted it (``signin.federation``),
then map it to a directory member through ``signin.members``; a person who may not
enter is refused with a reason the sign-in pages show politely. What the IdP said
about staff rights rides along to ``events.signed_in`` as ``SignInFacts``.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser, User
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest
from djangosaml2.backends import Saml2Backend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from campusconf.signin import events, staff_rights
from campusconf.signin.federation import (
    AssertedId,
    FederationRefused,
    bind_oidc_claims,
    check_id_token,
)
from campusconf.signin.members import SignInRefused, sign_in_user

# Where the ACS view hands the identity it bound to its IdP to the SAML backend.
ASSERTED_ID_KEY = "campusconf_asserted_id"


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", "")) and bool(
        getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    )


def saml_enabled() -> bool:
    return bool(getattr(settings, "CAMPUSCONF_SAML_ENABLED", False))


def user_with_member(backend: ModelBackend, user_id: Any) -> User | None:
    """``ModelBackend.get_user`` with the member row in the same statement: every request
    of a signed-in member reads both (``middleware.MemberStatusMiddleware``)."""
    user = User._default_manager.select_related("member").filter(pk=user_id).first()
    return user if user is not None and backend.user_can_authenticate(user) else None


class DevelopmentSessionBackend(ModelBackend):
    """Holds the sessions the development sign-in starts; it authenticates nobody."""

    def get_user(self, user_id: Any) -> User | None:
        return user_with_member(self, user_id)

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        return None


class MemberOIDCBackend(OIDCAuthenticationBackend):  # type: ignore[misc,unused-ignore]  # an untyped library
    """OpenID Connect: the ID token must come from ``OIDC_OP_ISSUER`` for this client;
    the claim named by CAMPUSCONF_OIDC_COMMON_ID_CLAIM is the common ID."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django instantiates every backend on every authenticate() and get_user(); when
        # OIDC is not configured the parent would raise ImproperlyConfigured there.
        self.configured = oidc_enabled()
        if self.configured:
            super().__init__(*args, **kwargs)
        else:
            ModelBackend.__init__(self)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> AbstractBaseUser | None:
        if not self.configured or request is None or "code" not in request.GET:
            return None
        user: AbstractBaseUser | None = super().authenticate(request, **kwargs)
        return user

    def get_or_create_user(
        self, access_token: str, id_token: str, payload: dict[str, Any]
    ) -> AbstractBaseUser | None:
        try:
            issuer = check_id_token(payload)
            claims = dict(payload)
            userinfo = self.get_userinfo(access_token, id_token, payload) or {}
            # OpenID Connect Core 5.3.2: a UserInfo answer about another subject is not used.
            if userinfo and userinfo.get("sub") != payload.get("sub"):
                raise FederationRefused(
                    "idp_not_accepted", issuer=issuer, detail="UserInfo names another sub"
                )
            claims.update(userinfo)
            asserted = bind_oidc_claims(issuer, claims)
            user = sign_in_user(asserted.common_id)
        except SignInRefused as refusal:
            events.refused(self.request, refusal, method="oidc")
            return None
        facts = events.SignInFacts(
            "oidc", asserted.issuer, asserted.scope, staff_rights.from_oidc(claims)
        )
        events.note(self.request, facts)
        return user

    def get_user(self, user_id: Any) -> User | None:
        return user_with_member(self, user_id)


class MemberSaml2Backend(Saml2Backend):  # type: ignore[misc,unused-ignore]  # an untyped library
    """SAML 2.0: takes only the identity that ``views.SamlAcs`` bound to an accepted IdP."""

    def get_user(self, user_id: Any) -> User | None:
        return user_with_member(self, user_id)

    def authenticate(
        self,
        request: HttpRequest | None,
        session_info: dict[str, Any] | None = None,
        attribute_mapping: Any = None,
        create_unknown_user: bool = True,
        assertion_info: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> AbstractBaseUser | None:
        if session_info is None or "ava" not in session_info:
            return None
        asserted = session_info.get(ASSERTED_ID_KEY)
        if not isinstance(asserted, AssertedId):
            raise SuspiciousOperation("SAML session_info not bound to an IdP")
        self._refuse_replay(request, asserted, assertion_info or {})
        try:
            user = sign_in_user(asserted.common_id)
        except SignInRefused as refusal:
            events.refused(request, refusal, method="saml")
            raise PermissionDenied(refusal.code) from refusal
        staff = staff_rights.from_saml(session_info["ava"])
        events.note(request, events.SignInFacts("saml", asserted.issuer, asserted.scope, staff))
        return user

    @staticmethod
    def _refuse_replay(
        request: HttpRequest | None, asserted: AssertedId, assertion_info: dict[str, Any]
    ) -> None:
        """An assertion is accepted once, whatever session presents it (the
        outstanding-request check only protects the session that asked)."""
        assertion_id = assertion_info.get("assertion_id")
        if not assertion_id:
            raise SuspiciousOperation("SAML assertion without an ID")
        # Kept longer than any assertion's validity window, so a replay always finds it.
        if not cache.add(f"saml-assertion:{assertion_id}", 1, timeout=24 * 3600):
            replay = FederationRefused(
                "failed", issuer=asserted.issuer, detail=f"assertion {assertion_id} presented again"
            )
            events.refused(request, replay, method="saml")
            raise PermissionDenied("replayed assertion")
