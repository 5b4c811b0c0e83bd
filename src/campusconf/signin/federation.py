"""Which identity provider may say who a person is.

Federation metadata (an aggregate or an MDQ service) lists every IdP of every member
institution, and each of them signs with a key the metadata vouches for. A signature
therefore only says *who* answered; whether that IdP may speak for a member of this
university is decided here:

- the answer must come from an IdP (SAML entity ID) or issuer (OpenID Connect) that the
  settings name;
- a scoped identifier (``<common ID>@<scope>``, like eduPersonPrincipalName) keeps its
  scope, and the scope must be one that IdP may assert (SAML metadata's
  ``shibmd:Scope``) and, when ``CAMPUSCONF_SIGNIN_SCOPES`` is set, one of the
  university's own.

Refusals are ``SignInRefused`` with the codes ``idp_not_accepted`` and
``scope_not_accepted``.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from campusconf.signin.members import COMMON_ID, SignInRefused

# A DNS name: what a scope is (SAML Scope extension, section 2.1: "a domain name").
SCOPE = re.compile(
    r"^(?=.{1,253}\Z)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\Z"
)


@dataclass(frozen=True)
class AssertedId:
    """A common ID as an IdP asserted it: the scope is kept ("" when the value had none)."""

    common_id: str
    scope: str
    issuer: str

    def __str__(self) -> str:
        return f"{self.common_id}@{self.scope}" if self.scope else self.common_id


@dataclass(frozen=True)
class ScopeRule:
    """One ``shibmd:Scope`` of an IdP: a literal domain, or a regular expression."""

    text: str
    regexp: bool = False

    def matches(self, scope: str) -> bool:
        if self.regexp:
            return re.fullmatch(self.text, scope, flags=re.IGNORECASE) is not None
        return scope == self.text.strip().lower()


class FederationRefused(SignInRefused):
    """A refusal that says something about the IdP, not about the person: it is
    audited with the IdP and scope so staff can see which IdP tried what."""

    def __init__(self, code: str, *, issuer: str, scope: str = "", detail: str = "") -> None:
        super().__init__(code)
        self.issuer = issuer
        self.scope = scope
        self.detail = detail


def split_identifier(value: object) -> tuple[str, str]:
    """(common ID, scope) of an asserted value such as ``1234567890@utac.example.ac.jp``.

    Several different values are refused rather than one of them picked: an IdP that
    asserts two identifiers does not say which person signed in.
    """
    values = value if isinstance(value, list | tuple) else [value]
    distinct = {str(v).strip() for v in values if v is not None and str(v).strip()}
    if len(distinct) != 1:
        raise SignInRefused("no_common_id")
    local, at, scope = distinct.pop().partition("@")
    scope = scope.lower()
    if not COMMON_ID.match(local) or (at and not SCOPE.match(scope)):
        raise SignInRefused("no_common_id")
    return local, scope


def home_scopes() -> set[str]:
    return {s.strip().lower() for s in settings.CAMPUSCONF_SIGNIN_SCOPES if s.strip()}


def check_scope(
    asserted: AssertedId, idp_rules: Iterable[ScopeRule] | None, home: set[str]
) -> None:
    """``idp_rules``: what the IdP's metadata allows it (None: the metadata says nothing,
    so the university's scopes alone decide). An unscoped value passes: only the IdP
    check applies to it."""
    if not asserted.scope:
        return
    rules = list(idp_rules or [])
    allowed_by_idp = any(rule.matches(asserted.scope) for rule in rules) if rules else None
    if allowed_by_idp is False:
        raise FederationRefused(
            "scope_not_accepted",
            issuer=asserted.issuer,
            scope=asserted.scope,
            detail="the IdP's metadata does not list this scope",
        )
    if home and asserted.scope not in home:
        raise FederationRefused(
            "scope_not_accepted",
            issuer=asserted.issuer,
            scope=asserted.scope,
            detail="not one of CAMPUSCONF_SIGNIN_SCOPES",
        )
    if allowed_by_idp is None and not home:
        raise FederationRefused(
            "scope_not_accepted",
            issuer=asserted.issuer,
            scope=asserted.scope,
            detail="no scope is known for this IdP: set CAMPUSCONF_SIGNIN_SCOPES",
        )


# SAML ------------------------------------------------------------------------------


def accepted_saml_idps(metadata: Any = None) -> list[str]:
    """The IdPs whose assertions are taken, in order (requests go to the first).

    Without a setting, a local metadata file that lists exactly one IdP names it; remote
    metadata and MDQ (a federation's every IdP) always need the setting.
    """
    if settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS:
        return list(settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS)
    remote = settings.CAMPUSCONF_SAML_IDP_METADATA_URL or settings.CAMPUSCONF_SAML_MDQ_URL
    if metadata is None or remote:
        return []
    idps = sorted(metadata.identity_providers())
    return idps if len(idps) == 1 else []


def saml_scope_rules(metadata: Any, entity_id: str) -> list[ScopeRule]:
    rules = []
    for scope in metadata.shibmd_scopes(entity_id, typ="idpsso_descriptor"):
        text = scope["text"]
        pattern = text.pattern if hasattr(text, "pattern") else str(text)
        rules.append(ScopeRule(pattern, bool(scope["regexp"])))
    return rules


def bind_saml_assertion(response: Any) -> AssertedId:
    """The identity in a verified pysaml2 ``AuthnResponse``, bound to the IdP that signed it.

    The assertion's own Issuer is the one whose key verified its signature; the
    Response's Issuer is outside that signature when only the assertion is signed, so
    it may not name anyone else.
    """
    assertion = response.assertion
    issuer = (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""
    outer = response.issuer()
    metadata = response.sec.metadata
    if not issuer or (outer and outer != issuer):
        raise FederationRefused(
            "idp_not_accepted",
            issuer=issuer or outer,
            detail=f"the response's issuer {outer!r} is not the assertion's {issuer!r}",
        )
    if issuer not in accepted_saml_idps(metadata):
        raise FederationRefused(
            "idp_not_accepted", issuer=issuer, detail="not in CAMPUSCONF_SAML_IDP_ENTITY_IDS"
        )
    attribute = settings.CAMPUSCONF_SAML_COMMON_ID_ATTRIBUTE
    common_id, scope = split_identifier(response.ava.get(attribute))
    asserted = AssertedId(common_id, scope, issuer)
    check_scope(asserted, saml_scope_rules(metadata, issuer) or None, home_scopes())
    return asserted


# OpenID Connect --------------------------------------------------------------------


def check_id_token(payload: dict[str, Any]) -> str:
    """The issuer of an ID token whose signature and nonce the library checked; the
    library checks neither ``iss`` nor ``aud`` (OpenID Connect Core 3.1.3.7, 2-4)."""
    expected = settings.OIDC_OP_ISSUER
    issuer = str(payload.get("iss") or "")
    if not expected or issuer != expected:
        raise FederationRefused(
            "idp_not_accepted", issuer=issuer, detail=f"OIDC_OP_ISSUER is {expected!r}"
        )
    audience = payload.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    client = settings.OIDC_RP_CLIENT_ID
    if client not in audiences or (len(audiences) > 1 and payload.get("azp") != client):
        raise FederationRefused(
            "idp_not_accepted", issuer=issuer, detail=f"token for audience {audience!r}"
        )
    if not payload.get("sub"):
        raise FederationRefused("idp_not_accepted", issuer=issuer, detail="no sub")
    return issuer


def bind_oidc_claims(issuer: str, claims: dict[str, Any]) -> AssertedId:
    """The issuer has no published scopes: ``CAMPUSCONF_SIGNIN_SCOPES`` binds them to it."""
    common_id, scope = split_identifier(claims.get(settings.CAMPUSCONF_OIDC_COMMON_ID_CLAIM))
    asserted = AssertedId(common_id, scope, issuer)
    check_scope(asserted, None, home_scopes())
    return asserted
