"""Changing a service's licence terms (S16), audited with what changed.

The rules the terms drive are the engine's: the seat cap and its queue in
``provisioning.verbs.seats``, the end of the licence in ``provisioning.verbs.licence_end``.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from campusconf.audit.log import record
from campusconf.provisioning.verbs.seat_admission import admit_waiting
from campusconf.services.models import Service

TERMS = ("plan_name", "seats", "valid_from", "valid_until", "licence_end_policy")


def update_licence_terms(
    service: Service, *, actor: AbstractBaseUser, reason: str, **terms: Any
) -> dict[str, tuple[Any, Any]]:
    """Save the new terms; returns {field: (before, after)} for the fields that changed."""
    unknown = set(terms) - set(TERMS)
    if unknown:
        raise TypeError(f"not a licence term: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        locked = Service.objects.select_for_update().get(pk=service.pk)
        changed = {
            name: (getattr(locked, name), value)
            for name, value in terms.items()
            if getattr(locked, name) != value
        }
        if not changed:
            return {}
        for name, (_before, after) in changed.items():
            setattr(locked, name, after)
        locked.full_clean()
        locked.save(update_fields=list(changed))
        if "seats" in changed:
            # More seats (or none any more): the queue moves, first come first served.
            admit_waiting(locked)
        record(
            actor,
            "service.licence_terms",
            locked,
            reason,
            changes={name: [before, after] for name, (before, after) in changed.items()},
        )
    service.refresh_from_db()
    return changed
