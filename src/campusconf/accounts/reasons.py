"""Why an account moved or failed: a code and its parameters, rendered when read.

Rows store ``reason_code`` and ``reason_params`` (never a sentence), so the back office,
the API and exports show each reason in the reader's language, and code that acts on a
reason (the portal's choice of recovery, the licence end's restore) compares codes.
Each code's label is its text, with the parameters as ``%(name)s``.

A person's own words (the reason staff type on the account desk, a command's
``--reason``) are kept as they were written, under ``NOTE``: they are not ours to
translate. ``OTHER`` holds text written before reasons had codes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from campusconf.services.models import LicenceEndPolicy

log = logging.getLogger(__name__)


class Reason(models.TextChoices):
    NOTE = "note", _("%(text)s")
    OTHER = "other", _("%(text)s")
    # The engine's moves after a vendor call.
    VENDOR_USER_CREATED = "vendor_user_created", _("vendor user created; invitation sent")
    VENDOR_USER_REACTIVATED = (
        "vendor_user_reactivated",
        _("vendor user reactivated (the same user: its data kept)"),
    )
    VENDOR_USER_REMOVED = "vendor_user_removed", _("vendor user removed")
    VENDOR_USER_FOUND = "vendor_user_found", _("vendor user found")
    VENDOR_USER_LINKED = "vendor_user_linked", _("vendor user already existed; linked")
    INVITATION_RESENT = "invitation_resent", _("invitation sent again")
    LICENCE_GIVEN_BACK = "licence_given_back", _("licence given back")
    HELD_ELSEWHERE = (
        "held_elsewhere",
        _("the address holds an account outside the university: %(detail)s"),
    )
    VENDOR_REFUSED = "vendor_refused", _("the vendor refused: %(detail)s")
    RETRIES_EXHAUSTED = "retries_exhausted", _("gave up after repeated attempts: %(detail)s")
    # What reconcile reads at the vendor (and the engine's own expiry check).
    VENDOR_SHOWS_USER = (
        "vendor_shows_user",
        _("the vendor now shows the user in our organisation"),
    )
    INVITATION_EXPIRED = "invitation_expired", _("invitation validity passed (S4)")
    GONE_AT_VENDOR = "gone_at_vendor", _("gone at the vendor but still wanted")
    GOOGLE_SIGN_IN = (
        "google_sign_in",
        _("activated with Sign in with Google (S12): the vendor user holds no licence"),
    )
    NO_LICENCE = "no_licence", _("the vendor user holds no licence")
    ADDRESS_CHANGED = (
        "address_changed",
        _("the address at the vendor was changed to %(address)s (S9)"),
    )
    ADDRESS_BEING_RESTORED = (
        "address_being_restored",
        _(
            "the address at the vendor was changed to %(address)s (S9); the university "
            "address and the licence are being put back"
        ),
    )
    ADDRESS_RESTORED = (
        "address_restored",
        _(
            "the address at the vendor had been changed to %(address)s (S9); the university "
            "address and the licence were put back"
        ),
    )
    ADDRESS_NOT_RESTORED = (
        "address_not_restored",
        _("the vendor would not put the university address back (S9): %(detail)s"),
    )
    MEMBER_ACTIVATED = "member_activated", _("the member activated the account")
    FOUND_ACTIVE = "found_active", _("found active at the vendor after all")
    FOUND_PENDING = (
        "found_pending",
        _("found at the vendor after all, its invitation pending (S15)"),
    )
    SIGN_IN_DISABLED = "sign_in_disabled", _("sign-in disabled at the vendor")
    VENDOR_WEBHOOK = "vendor_webhook", _("%(vendor)s webhook: %(event)s")
    # The member's own moves on the portal.
    MEMBER_REPORTS_GOOGLE = (
        "member_reports_google",
        _(
            "the member says they chose Sign in with Google (S12); "
            "Zoom shows the university's user still pending"
        ),
    )
    FRESH_INVITATION_AFTER_GOOGLE = (
        "fresh_invitation_after_google",
        _("a fresh invitation after Sign in with Google (S12)"),
    )
    RELEASED_ELSEWHERE = "released_elsewhere", _("released the account elsewhere")
    # The actions, when their caller gave no reason of its own.
    RESEND = "resend", _("a fresh invitation asked for")
    RETRY = "retry", _("retried")
    SUSPEND = "suspend", _("suspended")
    REPROVISION = "reprovision", _("re-provisioned")
    # Policies and queues.
    LICENCE_ENDED = "licence_ended", _("licence ended on %(date)s (%(policy)s)")
    LICENCE_RENEWED = (
        "licence_renewed",
        _(
            "licence renewed (now valid until %(until)s): the account the licence end "
            "of %(ended)s suspended is restored"
        ),
    )
    LICENCE_RENEWED_NO_END = (
        "licence_renewed_no_end",
        _(
            "licence renewed (no end date): the account the licence end of %(ended)s "
            "suspended is restored"
        ),
    )
    SEAT_FREED = "seat_freed", _("seat freed; waiting since %(since)s")
    MEMBER_LEFT = "member_left", _("member left on %(date)s, grace period over")
    CAMPAIGN = "campaign", _("campaign %(campaign)s")
    CAMPAIGN_CANCELLED = "campaign_cancelled", _("campaign cancelled")


@dataclass(frozen=True, init=False)
class Why:
    """A reason with its parameters, as a writer passes it (``Why(Reason.X, k=v)``)."""

    code: Reason
    params: Mapping[str, str]

    def __init__(self, code: Reason, **params: Any) -> None:
        object.__setattr__(self, "code", code)
        # Stored as JSON and shown as text: dates and numbers become their ISO text.
        object.__setattr__(self, "params", {k: str(v) for k, v in params.items()})


# What a writer may pass as a reason: a code, a code with parameters, or a person's words.
Because = Reason | Why | str


def stored(reason: Because) -> tuple[str, dict[str, str]]:
    """``reason`` as the ``(code, params)`` a row stores; plain text is a person's note."""
    if isinstance(reason, Why):
        return str(reason.code), dict(reason.params)
    if isinstance(reason, Reason):
        return str(reason), {}
    text = reason.strip()
    return (str(Reason.NOTE), {"text": text}) if text else ("", {})


def error_fields(reason: Because) -> dict[str, Any]:
    """An account's last-error fields for ``reason``; ``""`` clears them."""
    code, params = stored(reason)
    return {"last_error_reason": code, "last_error_params": params}


def _shown(name: str, value: str) -> str:
    if name == "policy" and value in LicenceEndPolicy.values:
        # The licence-end policy's own label, in the reader's language.
        return str(LicenceEndPolicy(value).label)
    return value


def render(code: str, params: Mapping[str, Any] | None = None) -> str:
    """The reason's text in the active language; "" when there is none."""
    if not code:
        return ""
    params = params or {}
    if code not in Reason.values:
        # A code from a newer release, read by an older one: show what there is.
        log.warning("unknown reason code %r", code)
        return str(params.get("text") or code)
    template = str(Reason(code).label)
    try:
        return template % {k: _shown(k, str(v)) for k, v in params.items()}
    except (KeyError, TypeError, ValueError):
        log.warning("reason %s lacks parameters for its text: %r", code, params)
        return f"{template} {dict(params)}"
