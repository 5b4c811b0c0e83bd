"""What /Schemas and /ResourceTypes describe: RFC 7643's schemas, and our extension of
User carrying what the standard has no place for — the affiliation's Japanese name.

The enterprise extension's ``department`` is one string with no language, and SCIM has
no language tags on values; identity systems (Entra ID among them) send extra
attributes as a custom extension, so that is what the Japanese name is.
"""

from __future__ import annotations

from scim2_models import ResourceType, Schema
from scim2_server.utils import load_default_resource_types, load_default_schemas

CAMPUSCONF = "urn:ietf:params:scim:schemas:extension:campusconf:2.0:User"
DEPARTMENT_JA = "departmentJa"


def _extension() -> Schema:
    return Schema.model_validate(
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": CAMPUSCONF,
            "name": "CampusConfUser",
            "description": "What CampusConf needs beyond the core and enterprise schemas.",
            "attributes": [
                {
                    "name": DEPARTMENT_JA,
                    "type": "string",
                    "multiValued": False,
                    "description": "The Japanese name of the user's department "
                    "(the enterprise extension's department, or organization).",
                    "required": False,
                    "caseExact": False,
                    "mutability": "readWrite",
                    "returned": "default",
                    "uniqueness": "none",
                }
            ],
            "meta": {"resourceType": "Schema", "location": f"/v2/Schemas/{CAMPUSCONF}"},
        }
    )


def schemas() -> list[Schema]:
    return [*load_default_schemas().values(), _extension()]


def resource_types() -> list[ResourceType]:
    types = load_default_resource_types()
    user = types["User"].model_dump()
    user["schemaExtensions"].append({"schema": CAMPUSCONF, "required": False})
    types["User"] = ResourceType.model_validate(user)
    return list(types.values())
