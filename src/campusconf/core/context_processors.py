from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from campusconf.core.staff_access import is_staff_request


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "university_name": settings.CAMPUSCONF_UNIVERSITY_NAME,
        "helpdesk": settings.CAMPUSCONF_HELPDESK_ADDRESS,
        "development_mode": settings.DEBUG and getattr(settings, "CAMPUSCONF_DEV_LOGIN", False),
        # Staff rights may come from the SSO's group, not only from is_staff.
        "staff_rights": SimpleLazyObject(lambda: is_staff_request(request)),
    }
