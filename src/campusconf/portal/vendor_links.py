"""Where a member signs in to a vendor, and the vendor's home page.

A service may name its own in ``connector_settings`` (``sign_in_url``, ``home_url``):
the demo points them at the sandbox's pages, so that a member trying the demo lands
where their sandbox account is. Otherwise the vendor's public pages, the ones the
university's help pages send members to (docs/vendors.md, "Sign-in and home pages").
"""

from typing import Any

from campusconf.services.models import Service

DEFAULTS: dict[str, dict[str, str]] = {
    Service.Vendor.WEBEX: {
        "sign_in_url": "https://signin.webex.com/",
        "home_url": "https://www.webex.com/",
    },
    Service.Vendor.ZOOM: {
        "sign_in_url": "https://zoom.us/signin",
        "home_url": "https://zoom.us/",
    },
}
KEYS = ("sign_in_url", "home_url")


def vendor_link(service: Service, key: str) -> str:
    """The service's ``sign_in_url`` or ``home_url``; "" for a vendor without one."""
    if key not in KEYS:
        raise ValueError(f"unknown vendor link {key!r}; known: {', '.join(KEYS)}")
    own: dict[str, Any] = service.connector_settings or {}
    value = own.get(key)
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        return value
    return DEFAULTS.get(service.vendor, {}).get(key, "")
