"""Bearer tokens of SCIM clients: shown once, stored as a SHA-256, revocable, each with
the rights chosen when it was made (read, write, deactivate)."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.directory.models import ScimClient

# last_used_at is written at most this often, so a busy client does not turn every
# read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


SCOPES = ("read", "write", "deactivate")


class BadScopes(ValueError):
    """The rights asked for a new token make no sense; the message says why."""


def check_scopes(scopes: Iterable[str]) -> set[str]:
    """The set of rights, or BadScopes: at least one, known ones, deactivate with write."""
    wanted = {s.strip().lower() for s in scopes if s.strip()}
    unknown = sorted(wanted - set(SCOPES))
    if unknown:
        raise BadScopes(
            _("Unknown right %(names)s; the rights are %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(SCOPES)}
        )
    if not wanted:
        raise BadScopes(_("Choose at least one right: %(known)s.") % {"known": ", ".join(SCOPES)})
    if "deactivate" in wanted and "write" not in wanted:
        # Deactivating is a write (active=false, DELETE): alone it could do nothing.
        raise BadScopes(_("The right to deactivate needs the right to write."))
    return wanted


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_scim_client(name: str, scopes: Iterable[str]) -> tuple[ScimClient, str]:
    """A new client with these rights and its token; the token is not stored and cannot
    be shown again. BadScopes for rights that make no sense."""
    granted = check_scopes(scopes)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        client = ScimClient.objects.create(
            name=name,
            token_hash=hash_token(token),
            can_read="read" in granted,
            can_write="write" in granted,
            can_deactivate="deactivate" in granted,
        )
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
