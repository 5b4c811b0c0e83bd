"""scim2-server's storage over our tables: ScimUser / ScimGroup rows, feeding Members.

scim2-server parses requests, applies PATCH and PUT to the stored resource, checks
ETags and renders errors; this module only reads and writes rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Model, Q, QuerySet
from scim2_models import (
    InvalidValueException,
    NotFoundException,
    PreconditionFailedException,
    Resource,
    ResourceType,
    ResponseParameters,
    SearchRequest,
    UniquenessException,
)
from scim2_models.path.expressions import AttrPath, CompareOperator, Comparison
from scim2_server.service import ScimService
from scim2_server.storage import ScimStorage, SearchPage

from campusconf.audit.actors import Actor
from campusconf.audit.log import record
from campusconf.directory.models import HeldDeactivation, ScimGroup, ScimUser
from campusconf.directory.scim import filters
from campusconf.directory.scim.context import current
from campusconf.directory.scim.guard import AUDIT_PREFIX, check_deactivation
from campusconf.directory.scim.mapping import (
    addresses_of,
    derive_common_id,
    member_fields,
    sync_member,
)
from campusconf.members.models import Member

COLUMN = 255  # ScimUser.user_name, external_id; ScimGroup.external_id
# Attributes never kept: password is writeOnly, and id/meta are ours.
NOT_STORED = ("id", "meta", "password")
USER_FILTER = filters.FilterTranslator(filters.USER_COLUMNS, filters.USER_INDEXED_LISTS)
GROUP_FILTER = filters.FilterTranslator(filters.GROUP_COLUMNS, {})


def version_tag(version: int) -> str:
    return f'W/"{version}"'


class DirectoryStorage(ScimStorage):
    def __init__(self, service: ScimService) -> None:
        self.service = service

    @contextmanager
    def operation(self) -> Iterator[None]:
        # One transaction per SCIM operation: any error leaves nothing stored.
        with transaction.atomic():
            yield

    # -- reading --------------------------------------------------------

    def _queryset(self, resource_type: ResourceType) -> QuerySet[Any]:
        if resource_type.name == "User":
            return ScimUser.objects.all()
        return ScimGroup.objects.all()

    def _row(self, resource_type: ResourceType, resource_id: str, lock: bool = False) -> Any:
        try:
            key = uuid.UUID(str(resource_id))
        except ValueError:
            raise NotFoundException(detail=f"no {resource_type.name} {resource_id}") from None
        queryset = self._queryset(resource_type)
        if lock:
            queryset = queryset.select_for_update()
        row = queryset.filter(pk=key).first()
        if row is None:
            raise NotFoundException(detail=f"no {resource_type.name} {resource_id}")
        return row

    def _resource(self, resource_type: ResourceType, row: ScimUser | ScimGroup) -> Resource[Any]:
        data = dict(row.resource)
        data["id"] = str(row.pk)
        data["meta"] = {
            "resourceType": resource_type.name,
            "created": row.created_at.isoformat(),
            "lastModified": row.updated_at.isoformat(),
            "version": version_tag(row.version),
        }
        return self.service.get_model(resource_type).model_validate(data)

    def get(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        response_parameters: ResponseParameters[Any] | None = None,
    ) -> Resource[Any]:
        return self._resource(resource_type, self._row(resource_type, resource_id))

    def search(
        self,
        resource_types: list[ResourceType],
        search_request: SearchRequest[Any],
        *,
        position: Any = None,
    ) -> SearchPage:
        # Several types (a search at the root) are paged as one list: each type's
        # matches in turn, sorted within the type.
        start = max(search_request.start_index or 1, 1) - 1
        wanted = search_request.count
        total = 0
        resources: list[Resource[Any]] = []
        for resource_type in resource_types:
            queryset = self._filtered(resource_type, search_request)
            matches = queryset.count()
            skip = max(start - total, 0)
            room = None if wanted is None else max(wanted - len(resources), 0)
            total += matches
            if skip >= matches or room == 0:
                continue
            rows = queryset[skip:] if room is None else queryset[skip : skip + room]
            resources += [self._resource(resource_type, r) for r in rows]
        return SearchPage(total=total, resources=resources)

    def _filtered(
        self, resource_type: ResourceType, search_request: SearchRequest[Any]
    ) -> QuerySet[Any]:
        queryset = self._queryset(resource_type)
        if search_request.filter is not None:
            translate = USER_FILTER if resource_type.name == "User" else GROUP_FILTER
            queryset = queryset.filter(translate(search_request.filter.ast))
        field = filters.sort_field(str(search_request.sort_by) if search_request.sort_by else None)
        if field is not None and field not in {f.name for f in queryset.model._meta.fields}:
            field = None  # e.g. userName when a root search also lists groups
        descending = search_request.sort_order == SearchRequest.SortOrder.descending
        if field is not None:
            order = F(field).desc() if descending else F(field).asc()
            return queryset.order_by(order, "created_at", "pk")
        return queryset.order_by("created_at", "pk")

    # -- writing --------------------------------------------------------

    def create(self, resource_type: ResourceType, resource: Resource[Any]) -> Resource[Any]:
        data = _stored_data(resource)
        row: ScimUser | ScimGroup
        if resource_type.name == "User":
            row = ScimUser()
            _audit("create", row, self._write_user(row, data, 0))
        else:
            row = ScimGroup()
            self._write_group(row, data)
            _audit("create", row)
        return self._resource(resource_type, row)

    def update(
        self,
        resource_type: ResourceType,
        resource: Resource[Any],
        *,
        expected_version: str | None = None,
    ) -> Resource[Any]:
        row = self._row(resource_type, str(resource.id), lock=True)
        _check_version(row, expected_version)
        data = _stored_data(resource)
        if data == row.resource:
            return self._resource(resource_type, row)  # nothing changed: same version
        row.version += 1
        if isinstance(row, ScimUser):
            _audit("update", row, self._write_user(row, data, row.version - 1))
        else:
            self._write_group(row, data)
            _audit("update", row)
        return self._resource(resource_type, row)

    def delete(
        self,
        resource_type: ResourceType,
        resource_id: str,
        *,
        expected_version: str | None = None,
    ) -> None:
        row = self._row(resource_type, resource_id, lock=True)
        _check_version(row, expected_version)
        leaving = False
        if isinstance(row, ScimUser):
            # The member stays (accounts and history point at them) but has left.
            if row.member is not None:
                leaving = row.member.status == Member.Status.ACTIVE
                if leaving:
                    check_deactivation(
                        row, row.member, HeldDeactivation.Kind.DELETE, {}, row.version
                    )
                sync_member(row.member, row.member.common_id, {}, _addresses(row.member), False)
            for group in row.groups.all():
                group.resource["members"] = [
                    m for m in group.resource.get("members", []) if m.get("value") != str(row.pk)
                ]
                group.version += 1
                group.save()
        _audit("delete", row, leaving)
        row.delete()

    def _write_user(self, row: ScimUser, data: dict[str, Any], base_version: int) -> bool:
        """Store the user and feed its member; True if that made the member leave."""
        user_name = _fitting(data, "userName")
        external_id = _fitting(data, "externalId")
        clash = ScimUser.objects.filter(USER_FILTER(_user_name_eq(user_name)))
        if row.pk is not None:
            clash = clash.exclude(pk=row.pk)
        if clash.exists():
            raise UniquenessException(detail="this userName is already taken")
        row.user_name = user_name
        row.external_id = external_id
        row.active = data.get("active") is not False
        row.display_name = str(data.get("displayName") or "")[:255]
        addresses = addresses_of(data)
        row.email_index = " " + " ".join(a.lower() for a in addresses) + " " if addresses else ""
        row.resource = data
        return self._sync(row, base_version)  # saves the row once, with its member

    def _sync(self, row: ScimUser, base_version: int) -> bool:
        by_groups = settings.CAMPUSCONF_SCIM_ROLES_FROM == "groups" and not row._state.adding
        group_names = list(row.groups.values_list("display_name", flat=True)) if by_groups else []
        fields, reason = member_fields(row.resource, group_names)
        row.pending_reason = reason
        if not reason:
            common_id = derive_common_id(row.resource)
            assert common_id is not None
            owner = ScimUser.objects.filter(member__common_id=common_id).exclude(pk=row.pk)
            already = row.member is not None and row.member.common_id == common_id
            if not already and owner.exists():
                raise UniquenessException(detail=f"common ID {common_id} belongs to another user")
            existing = row.member or Member.objects.filter(common_id=common_id).first()
            leaving = self._leaving(row, existing, base_version)
            row.member = sync_member(
                row.member, common_id, fields, addresses_of(row.resource), row.active
            )
        elif row.member is not None and not row.active:
            leaving = self._leaving(row, row.member, base_version)
            sync_member(row.member, row.member.common_id, {}, _addresses(row.member), False)
        else:
            leaving = False
        _save(row)
        return leaving

    @staticmethod
    def _leaving(row: ScimUser, member: Member | None, base_version: int) -> bool:
        """Whether this write makes an active member leave; if so, may it (guard.py)."""
        if member is None or row.active or member.status != Member.Status.ACTIVE:
            return False
        kind = HeldDeactivation.Kind.DEACTIVATE
        check_deactivation(row, member, kind, row.resource, base_version)
        return True

    def _write_group(self, row: ScimGroup, data: dict[str, Any]) -> None:
        row.display_name = str(data.get("displayName") or "")[:255]
        row.external_id = _fitting(data, "externalId")
        row.resource = data
        _save(row)
        ids = []
        for member in data.get("members") or []:
            try:
                ids.append(uuid.UUID(str(member.get("value"))))
            except ValueError:
                continue  # not one of our ids: kept in the resource, linked to nobody
        before = set(row.users.values_list("pk", flat=True))
        row.users.set(ScimUser.objects.filter(pk__in=ids))
        # Roles may come from groups: re-map every user who joined or left.
        touched = before ^ set(row.users.values_list("pk", flat=True))
        for user in ScimUser.objects.filter(Q(pk__in=touched)).select_related("member"):
            self._sync(user, user.version)


def _audit(operation: str, row: ScimUser | ScimGroup, deactivated: bool = False) -> None:
    """One audit entry per SCIM write, naming the client (or the staff member who
    approved a held deactivation), in the operation's transaction with the write. Each
    operation (create, update, delete) is SCIM's action; the members it feeds are
    written by ``members.actions`` (``mapping.sync_member``)."""
    call = current()
    kind = "user" if isinstance(row, ScimUser) else "group"
    client = call.client.name if call.client is not None else ""
    details: dict[str, Any] = {"client": client}
    if deactivated:
        details["deactivated"] = True
    if call.approved_by is not None:
        details["approved"] = True
    reason = call.approved_reason or f"SCIM request from {client or 'an unnamed client'}"
    actor = Actor.person(call.approved_by) if call.approved_by is not None else Actor.scim(client)
    record(actor, f"{AUDIT_PREFIX}{kind}.{operation}", row, reason, **details)


def _fitting(data: dict[str, Any], name: str) -> str:
    """An attribute kept in an indexed column of 255 characters: longer is refused
    (PostgreSQL would refuse it with an error; SQLite would store it)."""
    value = str(data.get(name) or "")
    if len(value) > COLUMN:
        raise InvalidValueException(detail=f"{name} is longer than {COLUMN} characters")
    return value


def _user_name_eq(user_name: str) -> Comparison:
    return Comparison(AttrPath("userName"), CompareOperator.eq, user_name)


def _addresses(member: Member) -> list[str]:
    return [member.mail_address, *member.alias_addresses]


def _stored_data(resource: Resource[Any]) -> dict[str, Any]:
    data: dict[str, Any] = resource.model_dump(mode="json")
    for name in NOT_STORED:
        data.pop(name, None)
    return data


def _check_version(row: ScimUser | ScimGroup, expected: str | None) -> None:
    if expected is not None and expected != version_tag(row.version):
        raise PreconditionFailedException(detail="the resource has changed")


def _save(row: Model) -> None:
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise UniquenessException(detail="a unique value is already taken") from error
