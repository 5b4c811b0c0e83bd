"""What a service problem means and what to do about it, in the staff's language.

One text for the back office's banner, the staff mail and ``campusconf vendor-check``, so
the three never disagree. The steps follow the vendors' own consoles (docs/vendors.md,
"Authentication and tokens", and docs/connectors.md's go-live checklist).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

CREDENTIAL, PERMISSION, CONFIGURATION = "credential", "permission", "configuration"
# The connector settings that name the variables holding each vendor's credential.
CREDENTIAL_SETTINGS = {
    "zoom": ("account_id_env", "client_id_env", "client_secret_env"),
    "webex": ("access_token_env", "refresh_token_env", "client_id_env", "client_secret_env"),
    "scim": ("token_env",),
}


@dataclass(frozen=True)
class Explanation:
    what: str  # what happened, one sentence
    fix: str  # what a person must do


def credential_variables(vendor: str, settings: dict[str, Any]) -> list[str]:
    """The environment variables the service's settings name for its credential."""
    names = [settings.get(key) for key in CREDENTIAL_SETTINGS.get(vendor, ())]
    return [str(n) for n in names if n]


def explain(
    vendor: str, kind: str, scopes: Sequence[str], detail: str, variables: Sequence[str]
) -> Explanation:
    """What ``kind`` of problem at ``vendor`` means and how to fix it (active language)."""
    listed = ", ".join(variables) or _("the variables the connector settings name")
    scope = _(" or ").join(scopes) if scopes else _("the scope the refused call needs")
    if kind == CONFIGURATION:
        return Explanation(
            _("A setting the service's connector needs is missing: %(detail)s")
            % {"detail": detail},
            _(
                "Set it in the environment of the workers and of the campusconf commands, "
                "then restart the workers. The work resumes by itself."
            ),
        )
    if vendor == "zoom" and kind == CREDENTIAL:
        return Explanation(
            _("Zoom refuses the service's Server-to-Server OAuth credentials."),
            _(
                "In the Zoom App Marketplace (Manage), check that the Server-to-Server OAuth "
                "app is activated, and that %(variables)s hold its current account ID, "
                "client ID and client secret (regenerating the secret retires the old one), "
                "and that no other program (nor another service here) asks for tokens with "
                "the same app: each new token knocks out the one before. After changing a "
                "variable, restart the workers."
            )
            % {"variables": listed},
        )
    if vendor == "zoom":
        return Explanation(
            _("Zoom refuses a call: the Server-to-Server OAuth app lacks a scope."),
            _(
                "In the Zoom App Marketplace, add the scope %(scope)s to the app (Scopes) "
                "and activate it again. CampusConf asks for a new token by itself: a token "
                "keeps the scopes it was issued with."
            )
            % {"scope": scope},
        )
    if vendor == "webex" and kind == CREDENTIAL:
        return Explanation(
            _("Webex refuses the service app's tokens."),
            _(
                "A full administrator must authorise the service app again in Control Hub. "
                "Then retrieve its new access and refresh tokens (Webex Developer Portal, "
                "the app's page), set them in %(variables)s and restart the workers."
            )
            % {"variables": listed},
        )
    if vendor == "webex":
        return Explanation(
            _("Webex refuses a call: the service app lacks a scope or an administrator role."),
            _(
                "Add the scope %(scope)s to the service app on the Webex Developer Portal, "
                "then have a full administrator authorise it again in Control Hub."
            )
            % {"scope": scope},
        )
    return Explanation(
        _("The vendor refuses the service's credential."),
        _("Check the credential in %(variables)s, then restart the workers.")
        % {"variables": listed},
    )
