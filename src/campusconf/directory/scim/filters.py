"""SCIM filters (RFC 7644 §3.4.2.2), parsed by scim2-models, turned into Django ``Q``.

The database does the filtering, so a search among 100,000 users reads one page.
Attributes with a column of their own use it; other single-valued attributes are
looked up in the stored resource's JSON; anything else is an ``invalidFilter``.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower
from django.db.models.lookups import Exact
from scim2_models import InvalidFilterException
from scim2_models.path.expressions import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterNode,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

Op = CompareOperator
TEXT_LOOKUPS = {Op.eq: "exact", Op.co: "contains", Op.sw: "startswith", Op.ew: "endswith"}
ORDER_LOOKUPS = {Op.gt: "gt", Op.ge: "gte", Op.lt: "lt", Op.le: "lte"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "text", "ci-text" (caseExact false), "bool", "datetime", "uuid"


USER_COLUMNS = {
    "id": Column("id", "uuid"),
    "username": Column("user_name", "ci-text"),
    "externalid": Column("external_id", "text"),
    "active": Column("active", "bool"),
    "displayname": Column("display_name", "ci-text"),
    "meta.lastmodified": Column("updated_at", "datetime"),
    "meta.created": Column("created_at", "datetime"),
}
GROUP_COLUMNS = {
    "id": Column("id", "uuid"),
    "displayname": Column("display_name", "ci-text"),
    "externalid": Column("external_id", "text"),
    "meta.lastmodified": Column("updated_at", "datetime"),
    "meta.created": Column("created_at", "datetime"),
}
# Multi-valued attributes indexed in a space-delimited text column (see ScimUser).
USER_INDEXED_LISTS = {"emails": "email_index"}


def _key(path: AttrPath) -> str:
    name = path.attr.lower() if path.sub_attr is None else f"{path.attr}.{path.sub_attr}".lower()
    return name


def _invalid(message: str) -> InvalidFilterException:
    return InvalidFilterException(detail=message)


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _invalid(f"{value!r} is not a boolean")


def _datetime(value: Any) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        return value
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as error:
        raise _invalid(f"{value!r} is not a dateTime") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed


def _column_q(column: Column, op: Op, value: Any) -> Q:
    field = column.name
    if column.kind == "bool":
        if op not in (Op.eq, Op.ne):
            raise _invalid(f"{op.value} does not apply to a boolean")
        q = Q(**{field: _bool(value)})
        return ~q if op == Op.ne else q
    if column.kind == "uuid":
        if op not in (Op.eq, Op.ne):
            raise _invalid(f"{op.value} does not apply to an id")
        try:
            q = Q(**{field: uuid.UUID(str(value))})
        except ValueError:
            q = Q(pk__in=[])  # not an id of ours: matches nothing
        return ~q if op == Op.ne else q
    if column.kind == "datetime":
        if op in TEXT_LOOKUPS and op != Op.eq:
            raise _invalid(f"{op.value} does not apply to a dateTime")
        lookup = "exact" if op in (Op.eq, Op.ne) else ORDER_LOOKUPS[op]
        q = Q(**{f"{field}__{lookup}": _datetime(value)})
        return ~q if op == Op.ne else q
    if not isinstance(value, str):
        raise _invalid(f"{value!r} is not a string")
    prefix = "i" if column.kind == "ci-text" else ""
    if prefix and op in (Op.eq, Op.ne) and value.isascii():
        # LOWER(column) = value uses the case-insensitive unique index; iexact would not.
        q = Q(Exact(Lower(field), value.lower()))
        return ~q if op == Op.ne else q
    if op in ORDER_LOOKUPS:
        return Q(**{f"{field}__{ORDER_LOOKUPS[op]}": value})
    lookup = TEXT_LOOKUPS[Op.eq if op == Op.ne else op]
    q = Q(**{f"{field}__{prefix}{lookup}": value})
    return ~q if op == Op.ne else q


def _list_q(field: str, op: Op, value: Any) -> Q:
    if not isinstance(value, str):
        raise _invalid(f"{value!r} is not a string")
    value = value.lower()
    patterns = {Op.eq: f" {value} ", Op.ne: f" {value} ", Op.co: value}
    patterns |= {Op.sw: f" {value}", Op.ew: f"{value} "}
    if op not in patterns:
        raise _invalid(f"{op.value} does not apply to this attribute")
    q = Q(**{f"{field}__contains": patterns[op]})
    return ~q if op == Op.ne else q


def _json_q(path: AttrPath, op: Op, value: Any) -> Q:
    """A single-valued attribute kept only in the stored resource's JSON."""
    field = f"resource__{path.attr}" + (f"__{path.sub_attr}" if path.sub_attr else "")
    if op in ORDER_LOOKUPS:
        return Q(**{f"{field}__{ORDER_LOOKUPS[op]}": value})
    if isinstance(value, bool) or value is None or not isinstance(value, str):
        q = Q(**{field: value})
    else:
        q = Q(**{f"{field}__i{TEXT_LOOKUPS[Op.eq if op == Op.ne else op]}": value})
    return ~q if op == Op.ne else q


class FilterTranslator:
    def __init__(self, columns: dict[str, Column], lists: dict[str, str]) -> None:
        self.columns = columns
        self.lists = lists

    def __call__(self, node: FilterNode) -> Q:
        return self._q(node, None)

    def _q(self, node: FilterNode, within: str | None) -> Q:
        if isinstance(node, LogicalExpr):
            terms = [self._q(term, within) for term in node.terms]
            join: Callable[[Q, Q], Q] = (
                (lambda a, b: a & b) if node.op == LogicalOperator.and_ else (lambda a, b: a | b)
            )
            return reduce(join, terms)
        if isinstance(node, Not):
            return ~self._q(node.expr, within)
        if isinstance(node, ValuePath):
            attr = node.attr_path.attr.lower()
            if attr not in self.lists:
                raise _invalid(f"cannot filter inside {node.attr_path}")
            return self._q(node.val_filter, attr)
        if isinstance(node, Present):
            return self._present(node.attr_path, within)
        if isinstance(node, Comparison):
            return self._compare(node.attr_path, node.op, node.value, within)
        raise _invalid(f"unsupported filter {node}")

    def _list_field(self, path: AttrPath, within: str | None) -> str | None:
        """The indexed column of ``emails``, ``emails.value`` or ``value`` inside ``emails[…]``."""
        if within is not None:
            if path.attr.lower() == "value" and path.sub_attr is None:
                return self.lists[within]
            raise _invalid(f"only value can be filtered inside {within}[…]")
        attr = path.attr.lower()
        if attr in self.lists and (path.sub_attr is None or path.sub_attr.lower() == "value"):
            return self.lists[attr]
        if attr in self.lists:
            raise _invalid(f"{path} cannot be filtered on")
        return None

    def _present(self, path: AttrPath, within: str | None) -> Q:
        listed = self._list_field(path, within)
        if listed is not None:
            return ~Q(**{listed: ""})
        column = self.columns.get(_key(path))
        if column is not None:
            return ~Q(**{column.name: ""}) if "text" in column.kind else Q()
        field = f"resource__{path.attr}" + (f"__{path.sub_attr}" if path.sub_attr else "")
        return Q(**{f"{field}__isnull": False})

    def _compare(self, path: AttrPath, op: Op, value: Any, within: str | None) -> Q:
        listed = self._list_field(path, within)
        if listed is not None:
            return _list_q(listed, op, value)
        column = self.columns.get(_key(path))
        if column is not None:
            return _column_q(column, op, value)
        return _json_q(path, op, value)


SORT_COLUMNS = {
    "username": "user_name",
    "externalid": "external_id",
    "displayname": "display_name",
    "active": "active",
    "meta.lastmodified": "updated_at",
    "meta.created": "created_at",
    "id": "id",
}


def sort_field(sort_by: str | None) -> str | None:
    """The column a ``sortBy`` names, or None to keep the default order."""
    if not sort_by:
        return None
    name = sort_by.rsplit(":", 1)[-1] if sort_by.startswith("urn:") else sort_by
    return SORT_COLUMNS.get(name.lower())
