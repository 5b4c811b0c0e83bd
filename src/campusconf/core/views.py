"""The site's plumbing pages: health and the icon. Pages that know members or services
live in the apps above core (the home page and the language switch: ``portal.front``)."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.templatetags.static import static

logger = logging.getLogger(__name__)


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


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask /favicon.ico whatever the page links; send them to the SVG icon."""
    return HttpResponseRedirect(static("campusconf/favicon.svg"))
