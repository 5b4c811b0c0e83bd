"""Who may read ``/metrics``: the view itself only renders the numbers."""

import hmac
import logging
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from campusconf.core.staff_access import is_staff_request

logger = logging.getLogger(__name__)

View = Callable[[HttpRequest], HttpResponse]


def _bearer(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def may_read_metrics(request: HttpRequest) -> bool:
    if settings.CAMPUSCONF_METRICS_OPEN or is_staff_request(request):
        return True
    expected = settings.CAMPUSCONF_METRICS_TOKEN
    offered = _bearer(request)
    # Bytes: compare_digest refuses str holding anything but ASCII, and a header may.
    return bool(expected and offered) and hmac.compare_digest(offered.encode(), expected.encode())


def metrics_guard(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest) -> HttpResponse:
        if not may_read_metrics(request):
            logger.warning(
                "metrics: refused %s (token %s)",
                request.META.get("REMOTE_ADDR", "?"),
                "offered" if _bearer(request) else "absent",
            )
            response = HttpResponse("Metrics need a bearer token.\n", status=401)
            response["WWW-Authenticate"] = 'Bearer realm="campusconf-metrics"'
            return response
        return view(request)

    return guarded
