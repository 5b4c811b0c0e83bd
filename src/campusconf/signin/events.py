"""Every sign-in, refusal, failed password and lockout is logged; the audit log gets
those that matter to staff: sign-ins with staff rights or a password, changes of staff
rights, IdP refusals, failed passwords and lockouts (members' routine ones are only
logged).

Django's ``user_logged_in`` / ``user_login_failed`` and django-axes' ``user_locked_out``
signals cover every way in, including forms that are not ours (the signals are sent by
``django.contrib.auth`` itself). What a sign-in asserted (which IdP, which scope, staff
rights or not) travels from the backend to ``user_logged_in`` on the request, as
``SignInFacts``.
"""

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.http import HttpRequest

from campusconf.audit.log import record
from campusconf.core.staff_access import is_staff_user
from campusconf.signin import ratelimit, sessions, staff_rights
from campusconf.signin.federation import FederationRefused
from campusconf.signin.members import SignInRefused

logger = logging.getLogger("campusconf.signin")

FACTS_ATTRIBUTE = "campusconf_signin_facts"
# Set by the password backend when a right password may not sign in (not a superuser).
PASSWORD_REFUSAL_ATTRIBUTE = "campusconf_password_refusal"  # noqa: S105 - a name, not a secret
REFUSAL_SESSION_KEY = "campusconf_signin_refused"
METHOD_SESSION_KEY = "campusconf_signin_method"


@dataclass(frozen=True)
class SignInFacts:
    method: str  # "saml", "oidc", "development" or "password"
    issuer: str = ""
    scope: str = ""
    # What the sign-in said about staff rights; None: it says nothing (rights stay as stored).
    staff: bool | None = None


def note(request: HttpRequest | None, facts: SignInFacts) -> None:
    """Called by a backend just before ``login()``."""
    if request is not None:
        setattr(request, FACTS_ATTRIBUTE, facts)


def _address(request: HttpRequest | None) -> str:
    return ratelimit.client_address(request) if request is not None else ""


def _path(request: HttpRequest | None) -> str:
    return request.path if request is not None else ""


def signed_in(sender: Any, request: HttpRequest | None, user: AbstractBaseUser, **_: Any) -> None:
    facts = getattr(request, FACTS_ATTRIBUTE, None)
    if facts is None:
        # Not one of our ways in (a test's force_login, a shell): nothing to say about it.
        logger.info("sign-in: user=%s by %s", user.get_username(), getattr(user, "backend", "-"))
        return
    with transaction.atomic():
        change = staff_rights.sync(user, facts.staff) if facts.staff is not None else ""
        staff = is_staff_user(user)
        details = {
            "method": facts.method,
            "issuer": facts.issuer,
            "scope": facts.scope,
            "staff": staff,
            "address": _address(request),
        }
        # Members' own sign-ins are only logged: the audit log is the staff's record of
        # who could act as staff, and of what an IdP tried.
        if staff or change or facts.method == "password":
            record(user, "signin.success", user, f"{facts.method} sign-in", **details)
        if change:
            record(
                user,
                f"signin.staff_rights_{change}",
                user,
                f"staff rights {change} by the {facts.method} sign-in",
                issuer=facts.issuer,
            )
    if request is not None and hasattr(request, "session"):
        request.session[METHOD_SESSION_KEY] = facts.method
        sessions.start(request, staff=staff)
    logger.info(
        "sign-in: user=%s method=%s issuer=%s scope=%s staff=%s staff_rights_change=%s address=%s",
        user.get_username(),
        facts.method,
        facts.issuer or "-",
        facts.scope or "-",
        staff,
        change or "-",
        details["address"],
    )


def refused(request: HttpRequest | None, refusal: SignInRefused, *, method: str) -> None:
    """An SSO sign-in that was turned away: told to the person (through the session),
    logged, and audited with the IdP and scope when the IdP is the reason."""
    if request is not None and hasattr(request, "session"):
        request.session[REFUSAL_SESSION_KEY] = refusal.code
    issuer = getattr(refusal, "issuer", "")
    scope = getattr(refusal, "scope", "")
    detail = getattr(refusal, "detail", "")
    federation = isinstance(refusal, FederationRefused)
    logger.log(
        logging.WARNING if federation else logging.INFO,
        "sign-in refused: method=%s code=%s issuer=%s scope=%s detail=%s address=%s",
        method,
        refusal.code,
        issuer or "-",
        scope or "-",
        detail or "-",
        _address(request),
    )
    if not federation:
        return  # who is not in the directory, or has left, is routine: logged only
    record(
        None,
        "signin.refused",
        None,
        f"{method} sign-in refused: {refusal.code}",
        method=method,
        code=refusal.code,
        issuer=issuer,
        scope=scope,
        detail=detail,
        address=_address(request),
    )


def _user_named(username: str) -> AbstractBaseUser | None:
    model = get_user_model()
    return model.objects.filter(**{model.USERNAME_FIELD: username}).first()


def _why_password_failed(request: HttpRequest | None, credentials: dict[str, Any]) -> str:
    if "otp" in credentials:
        return "wrong one-time code"
    refusal = getattr(request, PASSWORD_REFUSAL_ATTRIBUTE, "")
    if refusal:
        return str(refusal)
    # Axes has counted this failure already (its receiver is connected first, apps.py):
    # beyond the limit, the account was locked before this attempt.
    failures = getattr(request, "axes_failures_since_start", 0) or 0
    if getattr(request, "axes_locked_out", False) and failures > settings.AXES_FAILURE_LIMIT:
        return "the account is locked out"
    return "wrong user name or password"


def password_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **_: Any
) -> None:
    """Only password forms: SSO refusals are told by ``refused`` with more to say."""
    if "username" not in credentials:
        return
    username = str(credentials.get("username") or "")[:150]
    reason = _why_password_failed(request, credentials)
    logger.warning(
        "password sign-in failed: username=%s reason=%s path=%s address=%s",
        username,
        reason,
        _path(request),
        _address(request),
    )
    record(
        None,
        "signin.failed",
        _user_named(username),
        f"password sign-in failed: {reason}",
        username=username,
        path=_path(request),
        address=_address(request),
    )


def locked_out(
    sender: Any, request: HttpRequest | None = None, username: str | None = None, **kw: Any
) -> None:
    name = str(username or "")[:150]
    logger.warning(
        "password sign-in locked out: username=%s address=%s", name, kw.get("ip_address")
    )
    record(
        None,
        "signin.locked_out",
        _user_named(name) if name else None,
        "too many failed password sign-ins: locked out",
        username=name,
        path=_path(request),
        address=_address(request),
        failures=getattr(request, "axes_failures_since_start", None),
    )
