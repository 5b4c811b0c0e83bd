"""Local passwords: only for the break-glass superuser, and only with a one-time code.

Everyone else, staff included, signs in through the university's SSO. A password that
is right for a user who is not a superuser is refused like a wrong one. The second
factor is a TOTP device (django-otp); a wrong or missing code counts as a failed
sign-in for django-axes, which locks the account out after
``CAMPUSCONF_LOCKOUT_FAILURES`` failures, whatever comes next.
"""

import getpass
import logging
from typing import Any

from django import forms
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import AbstractBaseUser, User
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from campusconf.audit.log import record
from campusconf.signin import events

logger = logging.getLogger("campusconf.signin")


class BreakGlassBackend(ModelBackend):
    """ModelBackend for superusers only; sessions of other users it still recognises
    (``get_user``), since tests and the development sign-in make them."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and not user.is_superuser:
            setattr(
                request, events.PASSWORD_REFUSAL_ATTRIBUTE, "not a superuser: no password sign-in"
            )
            logger.warning(
                "password sign-in refused for %s: passwords are for the break-glass "
                "superuser only; staff sign in through the university's SSO",
                username,
            )
            return None
        return user


def totp_device(user: AbstractBaseUser) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


class BreakGlassLoginForm(AuthenticationForm):
    otp_token = forms.CharField(
        label=_("One-time code"),
        max_length=10,
        help_text=_("The six digits your authenticator app shows now."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        # One message for every failure, so the page never tells which part was right.
        "invalid_login": _(
            "The user name, password or one-time code is not right, or this account may "
            "not sign in with a password. IT staff sign in with the university account."
        ),
    }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # the password, through every backend (axes first)
        user = self.user_cache
        if user is None:
            return cleaned
        device = totp_device(user)
        token = (self.cleaned_data.get("otp_token") or "").strip()
        if device is None:
            logger.error(
                "break-glass sign-in for %s refused: no TOTP device is enrolled "
                "(campusconf totp-enrol %s)",
                user.get_username(),
                user.get_username(),
            )
        allowed = device is not None and device.verify_is_allowed()[0]
        if not (allowed and token and device is not None and device.verify_token(token)):
            self.user_cache = None
            # The right password with a wrong code is still a failed sign-in: axes counts
            # it towards the lockout, and the audit log shows it.
            user_login_failed.send(
                sender=__name__,
                credentials={"username": user.get_username(), "otp": "********"},
                request=self.request,
            )
            raise self.get_invalid_login_error()
        user.otp_device = device  # type: ignore[attr-defined]  # django-otp marks the session verified
        events.note(self.request, events.SignInFacts(method="password"))
        return cleaned


class EnrolmentRefused(ValueError):
    pass


def enrol_totp(
    user: AbstractBaseUser, *, replace: bool = False, key: str | None = None
) -> TOTPDevice:
    """A confirmed TOTP device for a break-glass superuser, audited; its secret is in
    ``device.config_url`` (an otpauth:// URI for an authenticator app)."""
    if not (user.is_active and user.is_superuser):  # type: ignore[attr-defined]
        raise EnrolmentRefused(_("only an active superuser signs in with a password"))
    with transaction.atomic():
        existing = TOTPDevice.objects.filter(user_id=user.pk)
        if existing.exists() and not replace:
            raise EnrolmentRefused(_("a TOTP device is already enrolled (use --replace)"))
        replaced = existing.count()
        existing.delete()
        fields: dict[str, Any] = {"user": user, "name": "break-glass", "confirmed": True}
        if key is not None:
            fields["key"] = key
        device = TOTPDevice.objects.create(**fields)
        record(
            None,
            "signin.totp_enrolled",
            user,
            "TOTP device enrolled from the command line",
            username=user.get_username(),
            replaced=replaced,
            os_user=getpass.getuser(),
        )
    return device
