"""``campusconf check`` errors for a sign-in that would refuse everyone, or trust too much."""

from typing import Any

from django.conf import settings
from django.core import checks

from campusconf.signin.backends import oidc_enabled, saml_enabled


def federation_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    if oidc_enabled() and not settings.OIDC_OP_ISSUER:
        errors.append(
            checks.Error(
                "OpenID Connect is on but OIDC_OP_ISSUER is not set: every OIDC sign-in "
                "is refused, since no issuer is trusted.",
                hint="Set OIDC_OP_ISSUER to the 'issuer' of the provider's "
                ".well-known/openid-configuration.",
                id="signin.E001",
            )
        )
    remote = settings.CAMPUSCONF_SAML_IDP_METADATA_URL or settings.CAMPUSCONF_SAML_MDQ_URL
    if saml_enabled() and remote and not settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS:
        errors.append(
            checks.Error(
                "SAML metadata comes from a URL or an MDQ service (every IdP of a "
                "federation) but CAMPUSCONF_SAML_IDP_ENTITY_IDS is not set: every SAML "
                "sign-in is refused.",
                hint="Set CAMPUSCONF_SAML_IDP_ENTITY_IDS to the university's IdP entity ID.",
                id="signin.E002",
            )
        )
    return errors


def register() -> None:
    checks.register(federation_settings, checks.Tags.security)
