"""What a reconcile pass knows of our side: every account of the service as plain
``observe.Facts``, indexed for matching vendor users by id, then address or alias.
"""

from __future__ import annotations

import datetime
from collections.abc import Container, Iterable

from django.db.models import Case, Q, Value, When

from campusconf.accounts.models import Account
from campusconf.connectors.base import VendorUser
from campusconf.core import clock
from campusconf.members.models import MemberAddress
from campusconf.provisioning.conf import engine_setting
from campusconf.provisioning.engine import observe
from campusconf.services.models import Service


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(True)), default=Value(False))


class Snapshot:
    """The service's accounts as ``observe.Facts`` (one query), and their members'
    addresses (one query).

    No model instance and no datetime per account: at 100,000 accounts building
    instances was most of our side of a pass, and a pass in step needs none. The
    dates are compared in SQL against ``now`` (invitation expired, activated, changed
    within the fresh window); ``instances`` loads the few accounts a pass changes.
    """

    def __init__(self, service: Service, now: datetime.datetime | None = None) -> None:
        now = now or clock.now()
        fresh_since = now - datetime.timedelta(seconds=int(engine_setting("FRESH_SECONDS")))
        self.accounts: dict[int, observe.Facts] = {}
        self.account_of_member: dict[int, int] = {}
        self.by_vendor_id: dict[str, int] = {}
        self.by_address: dict[str, int] = {}  # vendor addresses, then members' addresses
        self.address_owner: dict[str, int] = {}  # a member's address → the account's pk
        self.fresh: set[int] = set()  # changed within the fresh window: not judged unseen
        rows = (
            Account.objects.filter(service=service)
            .annotate(
                expired=_flag(Q(invitation_expires_at__lt=now)),
                activated=_flag(Q(activated_at__isnull=False)),
                is_fresh=_flag(Q(updated_at__gt=fresh_since)),
            )
            .values_list(
                "state",
                "desired_state",
                "observed_state",
                "vendor_user_id",
                "vendor_address",
                "observed_licensed",
                "observed_login_type",
                "expired",
                "activated",
                "pk",
                "member_id",
                "is_fresh",
            )
        )
        make = observe.Facts._make
        for row in rows:
            facts = make(row[:9])
            pk = row[9]
            self.accounts[pk] = facts
            self.account_of_member[row[10]] = pk
            if row[11]:
                self.fresh.add(pk)
            if facts.vendor_user_id:
                self.by_vendor_id[facts.vendor_user_id] = pk
            if facts.vendor_address:
                self.by_address.setdefault(facts.vendor_address.lower(), pk)
        for member_id, address in MemberAddress.objects.filter(
            member__accounts__service=service
        ).values_list("member_id", "address"):
            pk = self.account_of_member[member_id]
            self.address_owner[address.lower()] = pk
            self.by_address[address.lower()] = pk

    def match(self, user: VendorUser) -> int | None:
        if user.vendor_id and user.vendor_id in self.by_vendor_id:
            return self.by_vendor_id[user.vendor_id]
        return self.by_address.get(user.email.lower())

    def addresses(self, pk: int) -> MemberAddresses:
        return MemberAddresses(self.address_owner, pk)

    @staticmethod
    def instances(pks: Iterable[int]) -> dict[int, Account]:
        """The accounts a pass changes, as model instances (``in_bulk`` batches)."""
        return Account.objects.in_bulk(list(pks))


class MemberAddresses(Container[str]):
    """One member's addresses, lower-cased, as ``observe.wrong_way`` asks them: a view
    of the snapshot's one map instead of a set per account (addresses are unique
    across members, whatever their case, so the owner decides)."""

    __slots__ = ("owner", "pk")

    def __init__(self, owner: dict[str, int], pk: int) -> None:
        self.owner, self.pk = owner, pk

    def __contains__(self, address: object) -> bool:
        return isinstance(address, str) and self.owner.get(address) == self.pk
