"""The two vendors' SCIM users, as scim2-models resources with their extensions.

Cisco answers every user with its extension ``…:cisco:webexidentity:2.0:User``
(``accountStatus``) and the enterprise one; Zoom with
``urn:us:zoom:scim:schemas:extension:1.0:ZoomUser`` (``loginType``). Both ignore
attributes and schemas they do not know in a request, as Cisco documents.
"""

from __future__ import annotations

from typing import Union

from pydantic import ConfigDict
from scim2_models import ComplexAttribute, EnterpriseUser, Extension, User
from scim2_models.urn import URN

CORE = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
CISCO = "urn:scim:schemas:extension:cisco:webexidentity:2.0:User"
ZOOM = "urn:us:zoom:scim:schemas:extension:1.0:ZoomUser"
LIST = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


class CiscoMeta(ComplexAttribute):
    organization_id: str | None = None


class CiscoIdentity(Extension):
    __schema__ = URN(CISCO)
    model_config = ConfigDict(extra="ignore")

    account_status: list[str] | str | None = None
    meta: CiscoMeta | None = None


class ZoomLoginType(ComplexAttribute):
    work_email: bool | None = None
    sso: bool | None = None


class ZoomUserExtension(Extension):
    __schema__ = URN(ZOOM)
    model_config = ConfigDict(extra="ignore")

    login_type: ZoomLoginType | None = None


class WebexScimUser(User[Union[EnterpriseUser, CiscoIdentity]]):  # noqa: UP007 - scim2-models reads a Union
    model_config = ConfigDict(extra="ignore")


class ZoomScimUser(User[Union[EnterpriseUser, ZoomUserExtension]]):  # noqa: UP007 - same
    model_config = ConfigDict(extra="ignore")
