"""What the staff API tells a caller whose query or body does not fit the description.

A JSON Schema error becomes one sentence in the caller's language that names the field:
``roles[1]: one of faculty, staff, student.`` Rules that have their own words (a reason
of at least three characters, a non-empty cohort) carry an ``x-error`` key in the schema.
"""

from typing import Any

from django.utils.translation import gettext as _


def _special(key: str) -> str | None:
    messages = {
        "no_nul": _("%(field)s: text without NUL characters."),
        "three_characters": _("%(field)s: at least 3 characters besides spaces."),
        "date": _("%(field)s: a date such as 2026-04-01."),
        "date_time": _("%(field)s: a time such as 2026-04-01T09:00:00+09:00."),
        "common_id": _("%(field)s: not a 10-digit common ID."),
        "empty_cohort": _("Choose at least one role, a cut-off date, an affiliation or a list."),
        "reason_unless_dry_run": _("reason: required, unless dry_run is true."),
    }
    return messages.get(key)


def _by_kind(name: str) -> str:
    messages = {
        "required": _("%(field)s: required."),
        "enum": _("%(field)s: one of %(value)s."),
        "type": _("%(field)s: expected %(value)s."),
        "minLength": _("%(field)s: at least %(value)s characters."),
        "maxLength": _("%(field)s: at most %(value)s characters."),
        "minimum": _("%(field)s: at least %(value)s."),
        "maximum": _("%(field)s: at most %(value)s."),
        "minItems": _("%(field)s: at least %(value)s items."),
        "maxItems": _("%(field)s: at most %(value)s items."),
        "additionalProperties": _("Unknown fields: %(value)s."),
    }
    return messages.get(name, _("%(field)s: not in the expected form."))


def _field(prefix: str, path: list[Any]) -> str:
    text = prefix
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


def _node(schema: dict[str, Any], path: list[Any]) -> Any:
    node: Any = schema
    for step in path:
        node = node[step]
    return node


def _words(values: Any) -> str:
    if isinstance(values, list):
        return ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in values)
    return str(values)


def describe(problem: Any, schema: dict[str, Any], prefix: str) -> str:
    """One sentence for a jsonschema_rs ValidationError of ``schema``; ``prefix`` names
    the query parameter, or is empty for a body."""
    kind = problem.kind
    name = kind.name
    path = list(problem.instance_path)
    if name == "type" and not path and not prefix:
        return _("The body must be a JSON object.")
    owner = _node(schema, list(problem.schema_path)[:-1])
    special = _special(owner.get("x-error", "")) if isinstance(owner, dict) else None
    if special is not None and name in ("pattern", "format", "anyOf"):
        template = special
    else:
        template = _by_kind(name)
    if name == "required":
        path = [*path, kind.property]
        value = ""
    elif name == "additionalProperties":
        value = _words(sorted(kind.unexpected))
    elif name == "enum":
        value = _words(kind.options)
    elif name == "type":
        value = _words(kind.types)
    else:
        value = _words(getattr(kind, "limit", ""))
    return template % {"field": _field(prefix, path) or _("the body"), "value": value}
