import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from campusconf.members.actions import set_preferred_language
from campusconf.members.models import Member
from campusconf.services.models import Service

logger = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    services = Service.objects.filter(enabled=True).order_by("display_order", "slug")
    return render(request, "core/home.html", {"services": services})


def healthz(request: HttpRequest) -> JsonResponse:
    """Load balancers and operators ask this; it touches the database and nothing else."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("healthz: database unreachable: %s", error)
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "reachable"})


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


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask /favicon.ico whatever the page links; send them to the SVG icon."""
    return HttpResponseRedirect(static("campusconf/favicon.svg"))
