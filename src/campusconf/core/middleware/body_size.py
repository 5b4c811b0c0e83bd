"""Request bodies refused by their declared size, before anything reads them.

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` caps form fields, but a multipart file part is
streamed to a temporary file whatever its size, and the CSRF check parses the body of
every POST, signed in or not. This middleware answers 413 on ``Content-Length`` alone,
so a large body is never read. Bodies sent without a length (chunked) are not read by
Django's WSGI request at all, so they need no check here.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

# SCIM answers an over-long body itself, in SCIM's error format, reading at most one
# byte past its own limit (CAMPUSCONF_SCIM_MAX_BODY_BYTES).
DELEGATED_PREFIXES = ("/scim/",)


def body_limit(request: HttpRequest) -> int | None:
    """The largest body this request may carry; None when its view checks for itself."""
    path = request.path_info
    if path.startswith(DELEGATED_PREFIXES):
        return None
    # Uploads are larger only for someone signed in: the anonymous get the small limit
    # everywhere, so they cannot make the server parse megabytes to reach a 403.
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if signed_in and path.startswith(tuple(settings.CAMPUSCONF_UPLOAD_PATHS)):
        return int(settings.CAMPUSCONF_MAX_UPLOAD_BYTES)
    return int(settings.CAMPUSCONF_MAX_BODY_BYTES)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit(request)
        if limit is not None:
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0  # Django reads nothing of a body whose length it cannot read
            if length > limit:
                logger.warning(
                    "request body refused: %s %r declares %d bytes, the limit is %d (client %s)",
                    request.method,
                    request.path_info[:200],
                    length,
                    limit,
                    request.META.get("REMOTE_ADDR", ""),
                )
                return _too_large(limit)
        return self.get_response(request)


def _too_large(limit: int) -> HttpResponse:
    message = _("The request is too large: at most %(size)s bytes are accepted here.") % {
        "size": f"{limit:,}"
    }
    # No "Connection: close": WSGI leaves the connection to the server, and gunicorn
    # drains at most 64 KiB of an unread body before it closes the connection itself.
    return HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
