"""What a vendor user is, to us and to every connector: the one we want (``UserSpec``)
and the one the vendor reports (``VendorUser``). Plain data; the outcomes carry them."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class UserState(enum.StrEnum):
    PENDING = "pending"  # invited, has not activated the account yet
    ACTIVE = "active"
    INACTIVE = "inactive"  # deactivated / sign-in disabled


@dataclass(frozen=True)
class UserSpec:
    """What we want a vendor user to look like."""

    email: str
    first_name: str
    last_name: str
    display_name: str
    licensed: bool = True


@dataclass(frozen=True)
class VendorUser:
    """A user as the vendor reports it.

    `vendor_id` is None only for Zoom pending-list entries, which the vendor
    lists without an id; match those by `email`. `login_types` are symbolic
    names ("google", "zoom", "sso", …): how the member signs in, which names the
    cause when a licence is missing (S12). `raw` keeps the vendor's own record.

    `partial`: the vendor left fields out (Zoom may answer a pending user with only
    its id and the time of the call): the fields it did not send read as empty or
    False here, but they are unknown, not empty, and must not be compared.
    """

    vendor_id: str | None
    email: str
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    state: UserState = UserState.PENDING
    licensed: bool = False
    login_types: tuple[str, ...] = ()
    created: datetime | None = None
    last_login: datetime | None = None
    partial: bool = False
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
