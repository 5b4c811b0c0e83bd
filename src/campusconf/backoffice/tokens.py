"""API tokens: issued to staff, stored as a digest, shown once, revocable."""

import hashlib
import hmac
import secrets

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone

from campusconf.audit.log import record
from campusconf.backoffice.models import ApiToken

PREFIX = "cc_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user: AbstractBaseUser, name: str, *, reason: str) -> tuple[ApiToken, str]:
    """The new row and the token itself, which is never stored and cannot be shown again."""
    token = PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        row = ApiToken.objects.create(
            user_id=user.pk, name=name, prefix=token[:10], digest=_digest(token)
        )
        record(user, "api_token.issue", row, reason, name=name)
    return row, token


def revoke_token(row: ApiToken, *, actor: AbstractBaseUser, reason: str) -> None:
    with transaction.atomic():
        ApiToken.objects.filter(pk=row.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        record(actor, "api_token.revoke", row, reason)


def user_for_token(token: str) -> User | None:
    """The active user behind a live token, or None."""
    if not token.startswith(PREFIX):
        return None
    digest = _digest(token)
    for row in ApiToken.objects.filter(prefix=token[:10], revoked_at__isnull=True).select_related(
        "user"
    ):
        if hmac.compare_digest(row.digest, digest):
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
            return row.user if row.user.is_active else None
    return None
