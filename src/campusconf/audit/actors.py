"""Who made a change, for the audit log: a person, or the kind of caller that is not one.

Every action that writes takes an ``Actor`` and a reason and appends the entry itself,
in its own transaction (``audit.log.record``). The kind is kept in the entry's name as
a prefix (``cli:alice``, ``scim:entra-id``, ``roster:cli:alice``, ``engine:leavers``),
so the log can be filtered by it; a person is the user row itself.
"""

from __future__ import annotations

import os
import pwd
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    MEMBER = "member", _("members")
    STAFF = "staff", _("IT staff")
    SCIM = "scim", _("SCIM clients")
    ROSTER = "roster", _("roster imports")
    CLI = "cli", _("the command line")
    ENGINE = "engine", _("the engine")
    SYSTEM = "system", _("the system")


# Kinds that are not a person, by the prefix of their name; the roster's first: its name
# carries who started the import ("roster:cli:alice").
PREFIXES = {Kind.ROSTER: "roster:", Kind.CLI: "cli:", Kind.SCIM: "scim:", Kind.ENGINE: "engine:"}


def kind_of_name(name: str, user: Any) -> Kind:
    """The kind of an entry's actor, from its name and user: the log's filter."""
    for kind, prefix in PREFIXES.items():
        if name.startswith(prefix):
            return kind
    if user is None:
        return Kind.SYSTEM
    return Kind.STAFF if getattr(user, "is_staff", False) else Kind.MEMBER


@dataclass(frozen=True)
class Actor:
    """``user`` is the person's row (none for a client, the CLI or the engine);
    ``details`` go into every entry the actor writes (where from, the OS user…)."""

    kind: Kind
    name: str
    user: AbstractBaseUser | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def person(cls, user: AbstractBaseUser, **details: Any) -> Actor:
        kind = Kind.STAFF if getattr(user, "is_staff", False) else Kind.MEMBER
        return cls(kind, user.get_username(), user, details)

    @classmethod
    def scim(cls, client: str) -> Actor:
        return cls(Kind.SCIM, f"scim:{client}" if client else "scim:", details={"client": client})

    @classmethod
    def cli(cls, **details: Any) -> Actor:
        """The operating-system user who ran ``campusconf`` (and the one behind sudo)."""
        user = os_user()
        who: dict[str, Any] = {"via": "cli", "os_user": user}
        sudo_user = os.environ.get("SUDO_USER", "")
        if sudo_user and sudo_user != user:
            who["sudo_user"] = sudo_user
        return cls(Kind.CLI, f"cli:{user}", details={**who, **details})

    @classmethod
    def roster(cls, started_by: Actor) -> Actor:
        """A roster import, started by a person or from the command line."""
        details = {**started_by.details, "started_by": started_by.kind.value}
        return cls(Kind.ROSTER, f"roster:{started_by.name}", started_by.user, details)

    @classmethod
    def engine(cls, part: str) -> Actor:
        """The engine's own work (a schedule), named by the part that did it."""
        return cls(Kind.ENGINE, f"engine:{part}")


def os_user() -> str:
    # The effective user, not $USER: the environment is whatever the caller set.
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid with no passwd entry (a bare container)
        return str(os.geteuid())
