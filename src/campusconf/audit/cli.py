"""Audit entries for what the command line changes.

There is no signed-in person on the command line: the actor is the operating-system
user who ran ``campusconf`` (and the one behind ``sudo``), written ``cli:<user>`` so
the log tells a command from a page and can be filtered by it. The commands that run an
action pass ``Actor.cli()`` to it; ``record_cli`` is for what has no action of its own
(Django's user commands).
"""

from typing import Any

from django.db import models

from campusconf.audit.actors import Actor, os_user
from campusconf.audit.log import record
from campusconf.audit.models import AuditEntry

__all__ = ["os_user", "record_cli"]


def record_cli(action: str, target: models.Model | None, reason: str, **details: Any) -> AuditEntry:
    """Append one entry for a change made from the command line."""
    return record(Actor.cli(), action, target, reason.strip() or "command line", **details)
