"""Audit entries for what the command line changes.

There is no signed-in person on the command line: the actor is the operating-system
user who ran ``campusconf`` (and the one behind ``sudo``), written ``cli:<user>`` so
the log tells a command from a page and can be filtered by it.
"""

import os
import pwd
from typing import Any

from django.db import models

from campusconf.audit.log import describe
from campusconf.audit.models import AuditEntry

ACTOR_PREFIX = "cli:"


def os_user() -> str:
    # The effective user, not $USER: the environment is whatever the caller set.
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no passwd entry (a bare container)
        return str(os.geteuid())


def record_cli(action: str, target: models.Model | None, reason: str, **details: Any) -> AuditEntry:
    """Append one entry for a change made from the command line."""
    user = os_user()
    who: dict[str, str] = {"via": "cli", "os_user": user}
    sudo_user = os.environ.get("SUDO_USER", "")
    if sudo_user and sudo_user != user:
        who["sudo_user"] = sudo_user
    target_type, target_id, target_label = describe(target)
    return AuditEntry.objects.create(
        actor=None,
        actor_name=ACTOR_PREFIX + user,
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        reason=reason.strip() or "command line",
        details={**who, **details},
    )
