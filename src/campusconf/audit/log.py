"""Writing to the audit log. Every action that writes calls ``record`` in its own
transaction, so the change and the entry that explains it commit together or not at all;
its callers (views, the API, commands, SCIM, the roster) pass it the actor and reason."""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from campusconf.audit.actors import Actor
from campusconf.audit.models import AuditEntry


class ReasonRequired(ValueError):
    pass


def describe(target: models.Model | None) -> tuple[str, str, str]:
    """(type, id, label) of a row: "accounts.account", "17", "3000000001 @ webex: active"."""
    if target is None:
        return "", "", ""
    meta = target._meta
    return f"{meta.app_label}.{meta.model_name}", str(target.pk), str(target)[:200]


def record(
    actor: Actor | AbstractBaseUser | AnonymousUser | str | None,
    action: str,
    target: models.Model | None,
    reason: str,
    **details: Any,
) -> AuditEntry:
    """Append one entry. A change made by a person without a reason is refused.

    ``actor`` is an ``Actor``, a user, or the name of a non-person actor
    (``"scim:entra-id"``).
    """
    if not reason or not reason.strip():
        raise ReasonRequired("every audited action needs a reason")
    if isinstance(actor, Actor):
        # Its name carries its kind ("roster:alice"), beside the person if there is one.
        person, name, details = actor.user, actor.name, {**actor.details, **details}
    else:
        person = actor if isinstance(actor, AbstractBaseUser) else None
        name = (
            person.get_username() if person is not None else actor if isinstance(actor, str) else ""
        )
    target_type, target_id, target_label = describe(target)
    return AuditEntry.objects.create(
        actor_id=person.pk if person is not None else None,
        actor_name=name[:150],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        reason=reason.strip(),
        details=details,
    )
