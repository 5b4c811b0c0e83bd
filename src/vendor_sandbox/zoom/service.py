"""Zoom users: lookups that hide expired and not-yet-visible users, shapes, mails."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from vendor_sandbox import clock, links, mail, webhooks
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import Link, PersonalAccount, ZoomAccount, ZoomUser

LOGIN_EMAIL = 100
LOGIN_GOOGLE = 1
LOGIN_API = 99
ROLE_NAMES = {"0": "Owner", "1": "Admin", "2": "Member"}
LOGIN_BY_ACTION = {"autoCreate": [100], "custCreate": [99], "ssoCreate": [101]}
# An invitation's link kind, mail kind and template all have this name.
ACTIVATION = "zoom_activate"
ACTIVATION_SUBJECT = "Activate Zoom Account"


def new_user_id() -> str:
    return secrets.token_urlsafe(16)


def display_name(info: dict[str, Any]) -> str:
    """The display name a create gives, or the first and last names when it gives none."""
    first, last = info.get("first_name", ""), info.get("last_name", "")
    return str(info.get("display_name") or f"{first} {last}".strip())


def created_state(action: str) -> tuple[str, int, list[int]]:
    """Status, ``verified`` and sign-in methods of a user a create ``action`` makes:
    ``create`` invites (pending until activated); the others make an active user."""
    if action == "create":
        return "pending", 0, []
    return "active", 0 if action == "custCreate" else 1, LOGIN_BY_ACTION[action]


def activation_context(first_name: str, email: str, url: str) -> dict[str, object]:
    """The activation mail's context: its one button and the link in its text."""
    links = {"Activate Zoom Account": url}
    return {"first_name": first_name, "email": email, "links": links, "activate_url": url}


def pending_cutoff(now: datetime) -> datetime:
    return now - timedelta(days=CONFIG.zoom_invite_days)


def live(account: ZoomAccount, now: datetime) -> QuerySet[ZoomUser]:
    """Users the API can see: pending invitations past their validity are gone."""
    return ZoomUser.objects.filter(account=account, visible_at__lte=now).exclude(
        status="pending", invited_at__lt=pending_cutoff(now)
    )


def find(account: ZoomAccount, key: str, now: datetime) -> ZoomUser | None:
    field = "email" if "@" in key else "user_id"
    return (
        live(account, now)
        .filter(**{field: key.strip().lower() if field == "email" else key})
        .first()
    )


def is_expired_pending(user: ZoomUser, now: datetime) -> bool:
    return (
        user.status == "pending"
        and user.invited_at is not None
        and user.invited_at < pending_cutoff(now)
    )


def list_json(user: ZoomUser) -> dict[str, Any]:
    data: dict[str, Any] = {} if user.status == "pending" else {"id": user.user_id}
    data.update(
        first_name=user.first_name,
        last_name=user.last_name,
        display_name=user.display_name,
        email=user.email,
        type=user.type,
        pmi=user.extra.get("pmi", 0),
        timezone=user.extra.get("timezone", "Asia/Tokyo"),
        verified=user.verified,
        dept=user.dept,
        created_at=clock.iso(user.created_at),
        user_created_at=clock.iso(user.created_at),
        language=user.extra.get("language", "en-US"),
        phone_number=user.extra.get("phone_number", ""),
        status=user.status,
        role_id=user.role_id,
    )
    if user.last_login_time:
        data["last_login_time"] = clock.iso(user.last_login_time)
    return data


def detail_json(user: ZoomUser) -> dict[str, Any]:
    data = list_json(user)
    data["id"] = user.user_id
    data.update(
        role_name=ROLE_NAMES.get(user.role_id, "Member"),
        use_pmi=bool(user.extra.get("use_pmi", False)),
        account_id=user.account_id,
        cluster="us06",
        login_types=user.login_types,
        job_title=user.extra.get("job_title", ""),
        company=user.extra.get("company", ""),
        location=user.extra.get("location", ""),
    )
    return data


def pending_json(user: ZoomUser, now: datetime, chosen: dict[str, str]) -> dict[str, Any]:
    """A pending user read alone: Zoom's reference says only ``id`` and ``created_at``,
    and ``created_at`` is the time of the call (Errata Z-c); the other variant sends
    every field, with that ``created_at`` all the same."""
    stamp = clock.iso(now)
    if chosen.get("zoom_pending_user_get") == "full":
        return {**detail_json(user), "created_at": stamp, "user_created_at": stamp}
    return {"id": user.user_id, "created_at": stamp}


def signed_up_by_email(user: ZoomUser) -> bool:
    """Whether ``GET /users/email`` counts the user: e-mail and password, or made by the
    API with one; not Google, Facebook, SSO or the other sign-in methods."""
    return bool(set(user.login_types or []) & {LOGIN_API, LOGIN_EMAIL})


def invite(
    user: ZoomUser,
    account: ZoomAccount,
    now: datetime,
    personal: bool | None = None,
    activation_only: bool = False,
) -> None:
    """Mail the activation link, or the join request if the address has a Zoom account.

    A new invitation restarts the pending clock; earlier links stop working. A user just
    created (``personal`` already known) has neither, which spares the hot path two writes.
    """
    if personal is None:
        Link.objects.filter(target=user.user_id, used_at__isnull=True).update(used_at=now)
        user.invited_at = now
        user.save(update_fields=["invited_at"])
        personal = PersonalAccount.objects.filter(vendor="zoom", email=user.email).exists()
    if personal and not activation_only:
        url = links.new("zoom_join", user.email, user.user_id, now)
        ctx: dict[str, object] = {"first_name": user.first_name, "email": user.email}
        ctx["links"] = {"Approve Request": url}
        ctx["approve_url"] = url
        subject = f"{CONFIG.org_name} invited you to join their Zoom account"
        mail.send("zoom", "zoom_join", user.email, subject, "zoom_join", ctx, now)
    else:
        url = links.new(ACTIVATION, user.email, user.user_id, now)
        ctx = activation_context(user.first_name, user.email, url)
        mail.send("zoom", ACTIVATION, user.email, ACTIVATION_SUBJECT, ACTIVATION, ctx, now)


def send_reset(email: str, target: str, now: datetime) -> None:
    url = links.new("zoom_reset", email, target, now)
    ctx = {"email": email, "links": {"Reset password": url}, "reset_url": url}
    mail.send("zoom", "zoom_reset", email, "Zoom password reset", "zoom_reset", ctx)


def emit(event: str, user: ZoomUser, account: ZoomAccount, url: str | None = None) -> None:
    webhooks.emit(event, account, user, int(clock.now_ts() * 1000), url)
