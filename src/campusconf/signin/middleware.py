from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from campusconf.members.models import Member


class MemberStatusMiddleware:
    """Ends the session of a member who has left, and speaks the member's language.

    The directory marks members as left at any time (SCIM, roster); checking on every
    request means no session outlives the membership, whichever way the member signed
    in. A language chosen with the switcher (its cookie) wins over the preference the
    directory holds; where that preference overrode the browser's language,
    ``request.browser_language`` says which it was.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            row = (
                Member.objects.filter(user_id=user.pk)
                .values("status", "preferred_language")
                .first()
            )
            if row and row["status"] == Member.Status.LEFT:
                logout(request)
            elif row and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                # What LocaleMiddleware chose from the browser's Accept-Language, if it sent one.
                asked = request.META.get("HTTP_ACCEPT_LANGUAGE")
                browser = getattr(request, "LANGUAGE_CODE", "") if asked else ""
                translation.activate(row["preferred_language"])
                request.LANGUAGE_CODE = translation.get_language()
                if browser and browser != request.LANGUAGE_CODE:
                    # The page is not in the browser's language, and the member should be
                    # told why (issue #22): the portal says so beside the switcher's way out.
                    request.browser_language = browser  # type: ignore[attr-defined]
        return self.get_response(request)
