import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

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
