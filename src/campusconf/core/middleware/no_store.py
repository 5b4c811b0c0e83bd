"""``Cache-Control: no-store`` on every answer that carries someone's data.

A shared computer's browser cache, or a caching proxy, must not keep a member's page,
a staff page or an export. Pages for someone signed in are personal wherever they are
(the header names them); the prefixes below are personal even for the anonymous (a
redirect to sign in, an API error).
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

PRIVATE_PREFIXES = ("/my/", "/staff/", "/admin/", "/scim/", "/oidc/", "/saml2/", "/signin/")


def is_private(request: HttpRequest) -> bool:
    if request.path_info.startswith(PRIVATE_PREFIXES):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if is_private(request):
            add_never_cache_headers(response)
        return response
