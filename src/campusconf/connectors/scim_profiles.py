"""What differs between SCIM servers: extension schemas, user types, licences, filters.

SCIM itself knows no licences or invitations. A plain server (an identity system, the
tests' scim2-server) takes the licence as an entitlement. Zoom tells licensed from
basic users by the core attribute ``userType`` and answers with its extension
``urn:us:zoom:scim:schemas:extension:1.0:ZoomUser``. Webex wants ``userType`` ("user")
on every create, answers with Cisco's extension (``accountStatus``) and keeps licences
out of SCIM: they go through its Licenses API (``scim_webex_licences.py``).
docs/vendors.md (row W-g) has the sources.

Vendors add attributes over time, so the extension models ignore attributes they do
not name, and a profile's resource model ignores extension schemas it does not know;
what we read is typed and checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Union

from pydantic import ConfigDict
from scim2_models import (
    ComplexAttribute,
    Email,
    EnterpriseUser,
    Entitlement,
    Extension,
    Name,
    ResourceType,
    ScimProvider,
    User,
)
from scim2_models.urn import URN

from campusconf.connectors.base import UserSpec, UserState, VendorUser

CISCO_USER = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
ZOOM_USER = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
ZOOM_LICENSED, ZOOM_BASIC = "Licensed", "Basic"
WEBEX_USER_TYPE = "user"  # a person (the other types are rooms and calling services)


class CiscoMeta(ComplexAttribute):
    organization_id: str | None = None


class WebexIdentityUser(Extension):
    __schema__ = URN(CISCO_USER)
    model_config = ConfigDict(extra="ignore")

    # Cisco's schema types it as one string; its examples of answers show a list.
    account_status: list[str] | str | None = None
    meta: CiscoMeta | None = None


class ZoomLoginType(ComplexAttribute):
    work_email: bool | None = None
    sso: bool | None = None


class ZoomUserExtension(Extension):
    __schema__ = URN(ZOOM_USER)
    model_config = ConfigDict(extra="ignore")

    login_type: ZoomLoginType | None = None


# scim2-models reads the extensions from a Union (UP007 would rewrite it as X | Y).
_GenericBound = User[EnterpriseUser]
_WebexBound = User[Union[EnterpriseUser, WebexIdentityUser]]  # noqa: UP007
_ZoomBound = User[Union[EnterpriseUser, ZoomUserExtension]]  # noqa: UP007


class _GenericUser(_GenericBound):
    model_config = ConfigDict(extra="ignore")


class _WebexUser(_WebexBound):
    model_config = ConfigDict(extra="ignore")


class _ZoomUser(_ZoomBound):
    model_config = ConfigDict(extra="ignore")


@dataclass(frozen=True)
class ScimProfile:
    name: str  # generic | webex | zoom
    model: type[User[Any]]
    # Filter attributes tried in turn to find a user by address (Zoom filters on
    # userName and externalId only).
    find_attributes: tuple[str, ...]
    # Where the licence lives: an entitlement, the user type, or outside SCIM.
    licence_in: str  # entitlement | user_type | licenses_api
    bound: type[User[Any]]  # User with the extensions, as scim2-models binds them
    extensions: tuple[type[Extension], ...]

    def provider(self) -> ScimProvider:
        """The server as scim2-client needs it described: bare models, then the binding."""
        return ScimProvider(
            models=[User, *self.extensions],
            resource_types=[ResourceType.from_resource(self.bound)],
        )

    def new_user(self, spec: UserSpec, entitlement: str) -> User[Any]:
        user = self.model(
            user_name=spec.email,
            name=Name(given_name=spec.first_name, family_name=spec.last_name),
            display_name=spec.display_name,
            emails=[Email(value=spec.email, primary=True, type=Email.Type.work)],
            active=True,
        )
        if self.licence_in == "entitlement" and spec.licensed:
            user.entitlements = [Entitlement(value=entitlement)]
        elif self.licence_in == "user_type":
            user.user_type = ZOOM_LICENSED if spec.licensed else ZOOM_BASIC
        elif self.name == "webex":
            user.user_type = WEBEX_USER_TYPE  # required on create (W-g)
        return user

    def licence_operations(self, licensed: bool, entitlement: str) -> list[dict[str, Any]]:
        """The PATCH operations that give or take the licence (not for licenses_api)."""
        if self.licence_in == "user_type":
            value = ZOOM_LICENSED if licensed else ZOOM_BASIC
            return [{"op": "replace", "path": "userType", "value": value}]
        if licensed:
            return [{"op": "add", "path": "entitlements", "value": [{"value": entitlement}]}]
        return [{"op": "remove", "path": f'entitlements[value eq "{entitlement}"]'}]

    def licensed(self, user: User[Any], entitlement: str) -> bool:
        """Whether the resource itself says licensed (False when licenses live outside)."""
        if self.licence_in == "user_type":
            return user.user_type == ZOOM_LICENSED
        if self.licence_in == "entitlement":
            return entitlement in {e.value for e in user.entitlements or []}
        return False

    def state(self, user: User[Any]) -> UserState:
        if user.active is False:
            return UserState.INACTIVE
        if self.name == "webex":
            cisco = user[WebexIdentityUser]
            status = cisco.account_status if cisco is not None else None
            statuses = [status] if isinstance(status, str) else status or []
            # A person who has not signed in yet (the People API's invitePending).
            if "pending" in statuses:
                return UserState.PENDING
        return UserState.ACTIVE

    def vendor_user(self, user: User[Any], licensed: bool) -> VendorUser:
        emails = user.emails or []
        primary = next((e.value for e in emails if e.primary and e.value), None)
        address = (
            primary or next((e.value for e in emails if e.value), None) or user.user_name or ""
        )
        login_types: tuple[str, ...] = ()
        if self.name == "zoom":
            zoom = user[ZoomUserExtension]
            login = zoom.login_type if zoom is not None else None
            if login is not None:
                login_types = tuple(
                    name for name, on in (("zoom", login.work_email), ("sso", login.sso)) if on
                )
        return VendorUser(
            vendor_id=user.id,
            email=str(address),
            first_name=(user.name.given_name if user.name else None) or "",
            last_name=(user.name.family_name if user.name else None) or "",
            display_name=user.display_name or "",
            state=self.state(user),
            licensed=licensed,
            login_types=login_types,
            created=user.meta.created if user.meta else None,
            raw=user.model_dump(),
        )


BY_ADDRESS = ("userName", "emails.value")
PROFILES: dict[str, ScimProfile] = {
    "generic": ScimProfile(
        "generic", _GenericUser, BY_ADDRESS, "entitlement", _GenericBound, (EnterpriseUser,)
    ),
    "webex": ScimProfile(
        "webex",
        _WebexUser,
        BY_ADDRESS,
        "licenses_api",
        _WebexBound,
        (EnterpriseUser, WebexIdentityUser),
    ),
    "zoom": ScimProfile(
        "zoom",
        _ZoomUser,
        ("userName",),
        "user_type",
        _ZoomBound,
        (EnterpriseUser, ZoomUserExtension),
    ),
}
