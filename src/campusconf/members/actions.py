"""Adding and changing members: every rule checked before anything is written.

The one writer of members and their addresses: the portal and the demo one member at a
time, SCIM through ``save_directory_member``, the roster through ``apply_directory``
(a batch, as fast as the database allows). The audit entry is the directory action's
(one per SCIM operation, one per roster import), in the same transaction.
"""

import datetime
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import DateField, Model
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from campusconf.members.models import Member, MemberAddress
from campusconf.members.roles import join_roles


class AddressTaken(ValidationError):
    """An address another member holds already (whatever its case)."""


def address_key(address: str) -> str:
    """Addresses are unique across members whatever their case: compared by this key."""
    return address.strip().lower()


def _check_addresses(addresses: Sequence[str], member: Member | None) -> None:
    lowered = [address_key(a) for a in addresses]
    if not lowered:
        raise ValidationError({"addresses": _("A member needs a university mail address.")})
    if len(set(lowered)) != len(lowered):
        raise ValidationError({"addresses": _("The same address is listed twice.")})
    taken = MemberAddress.objects.annotate(key=Lower("address")).filter(key__in=lowered)
    if member is not None and member.pk is not None:
        taken = taken.exclude(member=member)
    clash = taken.select_related("member").first()
    if clash is not None:
        raise AddressTaken(
            {
                "addresses": ValidationError(
                    _("%(address)s is already used by another member.")
                    % {"address": clash.address},
                    code="address_taken",
                )
            }
        )
    for address in addresses:
        MemberAddress(address=address.strip()).clean_fields(exclude=["member"])


def register_member(
    *,
    common_id: str,
    family_name_latin: str,
    given_name_latin: str,
    roles: Sequence[str],
    university_account_created_on: datetime.date,
    mail_address: str,
    aliases: Sequence[str] = (),
    family_name_ja: str = "",
    given_name_ja: str = "",
    affiliation: str = "",
    affiliation_ja: str = "",
    preferred_language: str = "ja",
) -> Member:
    """Create a member with its addresses, or raise ValidationError and save nothing."""
    try:
        role_text = join_roles(list(roles))
    except ValidationError as error:
        raise ValidationError({"roles": error.messages}) from error
    member = Member(
        common_id=common_id,
        family_name_ja=family_name_ja,
        given_name_ja=given_name_ja,
        family_name_latin=family_name_latin,
        given_name_latin=given_name_latin,
        affiliation=affiliation,
        affiliation_ja=affiliation_ja,
        roles=role_text,
        university_account_created_on=university_account_created_on,
        preferred_language=preferred_language,
    )
    member.full_clean()
    all_addresses = [mail_address, *aliases]
    _check_addresses(all_addresses, None)
    with transaction.atomic():
        member.save()
        MemberAddress.objects.bulk_create(
            [
                MemberAddress(member=member, address=address.strip(), is_primary=index == 0)
                for index, address in enumerate(all_addresses)
            ]
        )
    return member


def mark_left(member: Member, left_on: datetime.date) -> None:
    member.status = Member.Status.LEFT
    member.left_on = left_on
    member.full_clean()
    member.save(update_fields=["status", "left_on", "updated_at"])


def set_preferred_language(member: Member, language: str) -> bool:
    """Remember the language the member chose; mails follow it. Returns True on a change.

    An unknown code changes nothing: the switcher only offers settings.LANGUAGES.
    """
    if language not in Member.Language.values:
        return False
    if member.preferred_language == language:
        return False
    Member.objects.filter(pk=member.pk).update(preferred_language=language)
    member.preferred_language = language
    return True


# -- the directory feeds: SCIM, one member a request ---------------------------------


def save_directory_member(
    member: Member | None,
    common_id: str,
    fields: Mapping[str, Any],
    addresses: Sequence[str],
    *,
    active: bool,
    today: datetime.date | None = None,
) -> Member:
    """Create or update the member a directory record feeds, or raise ValidationError
    and change nothing; an inactive record makes the member leave (today).

    Runs inside the caller's transaction (a SCIM operation), which holds its audit entry.
    """
    today = today or timezone.localdate()
    if member is None:
        member = Member.objects.filter(common_id=common_id).first()
    if member is None:
        member = Member(common_id=common_id, university_account_created_on=today)
    elif member.common_id != common_id:
        raise ValidationError(
            {"common_id": "the common ID of a member cannot change"}, code="common_id_changed"
        )
    for name, value in fields.items():
        setattr(member, name, value)
    if active:
        member.status, member.left_on = Member.Status.ACTIVE, None
    elif member.status != Member.Status.LEFT:
        member.status, member.left_on = Member.Status.LEFT, today
    _check_addresses(addresses, member)
    with transaction.atomic():
        member.save()
        current = sorted((a.address, a.is_primary) for a in member.addresses.all())
        wanted = sorted((a, i == 0) for i, a in enumerate(addresses))
        if current != wanted:
            member.addresses.all().delete()
            MemberAddress.objects.bulk_create(
                MemberAddress(member=member, address=a, is_primary=i == 0)
                for i, a in enumerate(addresses)
            )
    return member


# -- the directory feeds: the roster, many members at once ---------------------------

# Rows per INSERT: under SQLite's 32,766 bound parameters with Member's 13 columns.
BATCH = 2000
ACTIVE = Member.Status.ACTIVE.value  # a member's status while at the university
T = TypeVar("T")


class DirectoryEntry(Protocol):
    """A checked record of the directory: its values of the batch's ``fields``."""

    @property
    def common_id(self) -> str: ...

    @property
    def addresses(self) -> tuple[str, ...]: ...  # the primary address first

    def member_values(self) -> tuple[object, ...]: ...


@dataclass
class DirectoryChanges:
    """What a roster changes, every record already checked against the directory
    (``address_key`` for the addresses) by the caller, under its transaction."""

    create: list[DirectoryEntry] = field(default_factory=list)
    update: list[tuple[int, DirectoryEntry]] = field(default_factory=list)  # (member pk, …)
    readdress: list[tuple[int, DirectoryEntry]] = field(default_factory=list)
    leave: list[int] = field(default_factory=list)  # member pks


def directory_rows(fields: Sequence[str]) -> Iterator[tuple[Any, ...]]:
    """Every member as ``(common_id, pk, *fields)``, streamed: the roster's fingerprints."""
    return Member.objects.values_list("common_id", "pk", *fields).iterator(chunk_size=BATCH)


def directory_addresses() -> Iterator[tuple[str, bool, str]]:
    """Every address as ``(address, is_primary, owner's common_id)``, streamed."""
    return MemberAddress.objects.values_list("address", "is_primary", "member__common_id").iterator(
        chunk_size=BATCH
    )


def active_member_count() -> int:
    return Member.objects.filter(status=Member.Status.ACTIVE).count()


def apply_directory(
    changes: DirectoryChanges, fields: Sequence[str], *, today: datetime.date
) -> None:
    """Write a checked roster: new members, changed ones, new addresses, leavers.

    Plain multi-row statements: for 100,000 members the ORM's per-instance work costs
    more than the database. Runs in the caller's transaction, with its audit entry.
    """
    _check_fields(fields)
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    adapt = _adapters(fields)
    # Addresses first leave the members whose addresses change, so an address may
    # move from one member to another inside the same file.
    for readdressed in _batches(pk for pk, _entry in changes.readdress):
        MemberAddress.objects.filter(member_id__in=readdressed).delete()
    _insert(
        Member,
        ["common_id", *fields, "created_at", "updated_at"],
        ([e.common_id, *adapt(e.member_values()), stamp, stamp] for e in changes.create),
    )
    # Small UPDATE batches: PostgreSQL plans a CASE of thousands of branches slowly.
    for changed in _batches(changes.update):
        Member.objects.bulk_update(
            [_member(fields, entry, now, pk) for pk, entry in changed],
            [*fields, "updated_at"],
            batch_size=250,
        )
    created = {entry.common_id for entry in changes.create}
    new_pks = {
        common_id: pk
        for common_id, pk in Member.objects.filter(created_at=now).values_list("common_id", "pk")
        if common_id in created
    }
    owned = [(new_pks[e.common_id], e) for e in changes.create] + changes.readdress
    _insert(
        MemberAddress,
        ["member_id", "address", "is_primary"],
        ((pk, address, index == 0) for pk, e in owned for index, address in enumerate(e.addresses)),
    )
    for leavers in _batches(changes.leave):
        Member.objects.filter(pk__in=leavers).update(
            status=Member.Status.LEFT, left_on=today, updated_at=now
        )


# What a directory may not set: the key it is matched by, the sign-in user, our stamps.
NOT_FROM_DIRECTORY = frozenset({"id", "common_id", "user", "created_at", "updated_at"})


def _check_fields(fields: Sequence[str]) -> None:
    settable = {f.name for f in Member._meta.concrete_fields} - NOT_FROM_DIRECTORY
    unknown = set(fields) - settable
    if unknown:
        raise TypeError(f"a directory cannot set {', '.join(sorted(unknown))}")


def _adapters(fields: Sequence[str]) -> Callable[[tuple[object, ...]], list[object]]:
    """The row's values as the database takes them: dates adapted, the rest as they are."""
    fields_of = Member._meta.get_field
    dates = [i for i, name in enumerate(fields) if isinstance(fields_of(name), DateField)]
    adapt = connection.ops.adapt_datefield_value

    def values(row: tuple[object, ...]) -> list[object]:
        out = list(row)
        for i in dates:
            out[i] = adapt(cast(datetime.date | None, out[i]))
        return out

    return values


def _member(
    fields: Sequence[str], entry: DirectoryEntry, now: datetime.datetime, pk: int
) -> Member:
    member = Member(pk=pk, common_id=entry.common_id, updated_at=now)
    for name, value in zip(fields, entry.member_values(), strict=True):
        setattr(member, name, value)
    return member


def _batches(items: Iterable[T]) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(model: type[Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Plain multi-row INSERTs (COPY on PostgreSQL): the values are already checked and
    adapted, so building 100,000 model instances would only spend time and memory."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    table = quote(model._meta.db_table)
    if connection.vendor == "postgresql":  # COPY is several times faster than INSERT there
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for batch in _batches(rows):
            sql = f"INSERT INTO {table} ({names}) VALUES "  # noqa: S608 - names come from the model, values are parameters
            params: list[Any] = [v for r in batch for v in r]
            cursor.execute(sql + ", ".join([marks] * len(batch)), params)
