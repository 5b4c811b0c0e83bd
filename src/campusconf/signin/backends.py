"""Authentication backends: the university's OpenID provider and SAML IdP name a common ID.

Both map the asserted identifier to a directory member through ``signin.members``; a
person who may not enter is refused with a reason the sign-in pages show politely.
"""

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest
from djangosaml2.backends import Saml2Backend
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from campusconf.signin.members import SignInRefused, common_id_from, sign_in_user

logger = logging.getLogger(__name__)

REFUSAL_SESSION_KEY = "campusconf_signin_refused"


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_RP_CLIENT_ID", "")) and bool(
        getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", "")
    )


def saml_enabled() -> bool:
    return bool(getattr(settings, "CAMPUSCONF_SAML_ENABLED", False))


def remember_refusal(request: HttpRequest | None, code: str) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[REFUSAL_SESSION_KEY] = code


class MemberOIDCBackend(OIDCAuthenticationBackend):
    """OpenID Connect: the claim named by CAMPUSCONF_OIDC_COMMON_ID_CLAIM is the common ID."""

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
        claims = dict(payload)
        claims.update(self.get_userinfo(access_token, id_token, payload) or {})
        claim = settings.CAMPUSCONF_OIDC_COMMON_ID_CLAIM
        try:
            user = sign_in_user(common_id_from(claims.get(claim)))
        except SignInRefused as refusal:
            logger.info("OIDC sign-in refused: %s (sub=%s)", refusal.code, claims.get("sub"))
            remember_refusal(self.request, refusal.code)
            return None
        self.request.session["campusconf_signin_method"] = "oidc"
        return user

    def get_user(self, user_id: Any) -> AbstractBaseUser | None:
        return ModelBackend.get_user(self, user_id)


class MemberSaml2Backend(Saml2Backend):
    """SAML 2.0: the attribute named by CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE is the common ID."""

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
        self._refuse_replay(request, assertion_info or {})
        attribute = settings.CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE
        values = session_info["ava"].get(attribute)
        try:
            user = sign_in_user(common_id_from(values))
        except SignInRefused as refusal:
            logger.info("SAML sign-in refused: %s", refusal.code)
            remember_refusal(request, refusal.code)
            raise PermissionDenied(refusal.code) from refusal
        if request is not None:
            request.session["campusconf_signin_method"] = "saml"
        return user

    @staticmethod
    def _refuse_replay(request: HttpRequest | None, assertion_info: dict[str, Any]) -> None:
        """An assertion is accepted once, whatever session presents it (the
        outstanding-request check only protects the session that asked)."""
        assertion_id = assertion_info.get("assertion_id")
        if not assertion_id:
            raise SuspiciousOperation("SAML assertion without an ID")
        # Kept longer than any assertion's validity window, so a replay always finds it.
        if not cache.add(f"saml-assertion:{assertion_id}", 1, timeout=24 * 3600):
            logger.warning("SAML assertion %s presented again: refused", assertion_id)
            remember_refusal(request, "failed")
            raise PermissionDenied("replayed assertion")
