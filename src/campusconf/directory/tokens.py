"""Bearer tokens of SCIM clients: shown once, stored as a SHA-256, revocable."""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from campusconf.directory.models import ScimClient

# last_used_at is written at most this often, so a busy client does not turn every
# read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_scim_client(name: str) -> tuple[ScimClient, str]:
    """A new client and its token; the token is not stored and cannot be shown again."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ScimClient.objects.create(name=name, token_hash=hash_token(token))
    return client, token


def revoke_scim_client(name: str) -> ScimClient:
    client = ScimClient.objects.get(name=name)
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
    return client


def authenticate_scim_client(token: str) -> ScimClient | None:
    if not token:
        return None
    client = ScimClient.objects.filter(token_hash=hash_token(token), revoked_at=None).first()
    if client is None:
        return None
    now = timezone.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_RESOLUTION:
        ScimClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client
