"""Behaviours where the vendors' documents and what people have observed disagree.

The sandbox behaves as the vendor documents by default. Where only reports back a
behaviour, or the document and the reports disagree, the sandbox offers each behaviour
as a choice of a *variant*, switched on the admin page or with ``PUT /_admin/variants``,
so the connectors can be tested against every one of them. The first choice of a
variant is its default: the documented behaviour. ``docs/vendors.md`` gives the source
of each choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Variant:
    name: str
    vendor: str  # webex | zoom
    choices: tuple[str, ...]  # the first is the default: the vendor's document
    meaning: str  # one line for the admin page: what each choice does


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "zoom_daily_cap_headers",
            "zoom",
            ("documented", "absent"),
            "the 429 of Zoom's daily create cap: with X-RateLimit-Type: Daily-limit and an "
            "ISO Retry-After (documented), or with neither header (reported)",
        ),
        Variant(
            "zoom_google_activation",
            "zoom",
            ("personal_outside", "joined_basic", "joined_licensed"),
            "Sign in with Google on the activation page: a personal account outside the "
            "organisation, the organisation's user still pending (the university's report); "
            "or the invitation accepted with a Google login, as a Basic user, or licensed",
        ),
        Variant(
            "zoom_pending_user_get",
            "zoom",
            ("minimal", "full"),
            "GET /users/{id or email} of a pending user: only id and created_at, the time of "
            "the call (the reference's note), or every field with that created_at",
        ),
        Variant(
            "zoom_account_elsewhere",
            "zoom",
            ("documented", "code_1009"),
            'a create for an address held by a paid Zoom account elsewhere: 409 "User with '
            'that email already exists" (documented), or code 1009 "already holds an '
            'active account" (reported)',
        ),
        Variant(
            "webex_admin_flags",
            "webex",
            ("strings", "booleans"),
            'invitePending and loginEnabled in Webex\'s answers: the strings "true"/'
            '"false" as Cisco\'s spec types them (documented), or JSON booleans as SDKs '
            "and samples show them",
        ),
        Variant(
            "zoom_token_reissue",
            "zoom",
            ("invalidates", "grace", "independent"),
            "a new Server-to-Server token: knocks out every earlier one at once (Zoom's "
            "staff in its forum), lets them work a few seconds more (the tolerance reported "
            "later), or leaves them until they expire (Zoom's current page)",
        ),
    )
}
DEFAULTS: dict[str, str] = {name: v.choices[0] for name, v in VARIANTS.items()}


def validate(update: dict[str, Any]) -> dict[str, str]:
    """Check an admin update; returns the cleaned values or raises ValueError."""
    clean: dict[str, str] = {}
    for name, value in update.items():
        variant = VARIANTS.get(name)
        if variant is None:
            raise ValueError(f"unknown variant: {name}")
        if value not in variant.choices:
            raise ValueError(f"{name} must be one of: {', '.join(variant.choices)}")
        clean[name] = value
    return clean


def merged(stored: dict[str, Any] | None) -> dict[str, str]:
    """The defaults with the stored choices over them (unknown names are dropped)."""
    out = dict(DEFAULTS)
    for name, value in (stored or {}).items():
        if name in VARIANTS and value in VARIANTS[name].choices:
            out[name] = value
    return out


def any_changed(current: dict[str, str], vendor: str) -> bool:
    """Whether a variant of ``vendor`` is off its default (the fast paths then step aside)."""
    return any(
        current.get(name, v.choices[0]) != v.choices[0]
        for name, v in VARIANTS.items()
        if v.vendor == vendor
    )


def every_combination_of_one() -> list[dict[str, str]]:
    """The defaults, then each other choice of each variant alone: what a suite runs against."""
    out = [dict(DEFAULTS)]
    for name, variant in VARIANTS.items():
        for choice in variant.choices[1:]:
            out.append({**DEFAULTS, name: choice})
    return out
