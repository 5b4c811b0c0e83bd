from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, object]:
    return {
        "university_name": settings.CAMPUSCONF_UNIVERSITY_NAME,
        "helpdesk": settings.CAMPUSCONF_HELPDESK_ADDRESS,
        "development_mode": settings.DEBUG and getattr(settings, "CAMPUSCONF_DEV_LOGIN", False),
    }
