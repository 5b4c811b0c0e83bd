from collections.abc import Callable
from typing import cast

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
        member = None
        if user is not None and user.is_authenticated:
            # The whole row, kept on the request: the portal's pages need it too, and
            # reading it once saves each of them a statement. The members' sign-in
            # backends read it with the user (``backends.user_with_member``).
            joined = Member.user.field.remote_field
            if joined.is_cached(user):
                member = cast(Member | None, joined.get_cached_value(user))
            else:
                member = Member.objects.filter(user_id=user.pk).first()
            if member and member.status == Member.Status.LEFT:
                logout(request)
                member = None
            else:
                # The base template asks ``user.member``: answered from this read, even
                # when there is none (a staff member without a member row).
                Member.user.field.remote_field.set_cached_value(user, member)
                if member and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
                    # What LocaleMiddleware chose from the browser's Accept-Language, if it
                    # sent one.
                    asked = request.META.get("HTTP_ACCEPT_LANGUAGE")
                    browser = getattr(request, "LANGUAGE_CODE", "") if asked else ""
                    translation.activate(member.preferred_language)
                    request.LANGUAGE_CODE = translation.get_language()
                    if browser and browser != request.LANGUAGE_CODE:
                        # The page is not in the browser's language, and the member should
                        # be told why (issue #22): the portal says so beside the switcher.
                        request.browser_language = browser  # type: ignore[attr-defined]
        request.signed_in_member = member  # type: ignore[attr-defined]
        return self.get_response(request)


def signed_in_member(request: HttpRequest) -> Member | None:
    """The member row the middleware read for this request's user, if it ran."""
    return getattr(request, "signed_in_member", None)
