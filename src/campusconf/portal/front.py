"""The public front door: the home page and the language switch.

In the portal, not core: both know members and services, and core sits below them.
"""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from campusconf.members.actions import set_preferred_language
from campusconf.members.models import Member
from campusconf.services.models import Service

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    services = Service.objects.filter(enabled=True).order_by("display_order", "slug")
    return render(request, "core/home.html", {"services": services})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switcher, which also keeps a signed-in member's preference.

    Mails go out in ``Member.preferred_language``; without this, a member who switched
    the pages to English would still get Japanese mail. CSRF is checked as for any POST.
    """
    response = django_set_language(request)
    user = request.user
    if user.is_authenticated:
        member = Member.objects.filter(user_id=user.pk).first()
        if member is not None and set_preferred_language(member, request.POST.get("language", "")):
            logger.info("member %s chose language %s", member.common_id, member.preferred_language)
    return response
