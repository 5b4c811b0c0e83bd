"""How long a signed-in session lasts: an idle limit and an absolute one.

Staff sessions end after ``CAMPUSCONF_STAFF_IDLE_MINUTES`` without a request (30 by
default), members' after ``CAMPUSCONF_MEMBER_IDLE_MINUTES`` (60), and every session
``CAMPUSCONF_SESSION_MAX_HOURS`` after its sign-in (12), however busy. A page's own
background refresh (an htmx GET, such as a campaign's progress bar) does not count as
activity, so a screen left open still times out. The person lands on the sign-in page
with a note saying why.
"""

import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

from campusconf.core.staff_access import is_staff_request

logger = logging.getLogger("campusconf.signin")
SIGNED_IN_AT = "campusconf_signed_in_at"
LAST_SEEN = "campusconf_last_seen"
IDLE_MINUTES = "campusconf_idle_minutes"
ENDED = "campusconf_session_ended"
# Saving the session on every request would write its row every time; a minute's
# precision is plenty for limits counted in tens of minutes.
TOUCH_SECONDS = 60


def now() -> float:
    return time.time()


def idle_minutes(staff: bool) -> int:
    return int(
        settings.CAMPUSCONF_STAFF_IDLE_MINUTES if staff else settings.CAMPUSCONF_MEMBER_IDLE_MINUTES
    )


def start(request: HttpRequest, *, staff: bool) -> None:
    moment = now()
    request.session[SIGNED_IN_AT] = moment
    request.session[LAST_SEEN] = moment
    request.session[IDLE_MINUTES] = idle_minutes(staff)


def ended_reason(request: HttpRequest) -> str:
    """ "idle", "expired", or "" while the session may go on (then it is touched)."""
    session = request.session
    moment = now()
    if IDLE_MINUTES not in session:  # a session begun before these limits, or by a test
        start(request, staff=is_staff_request(request))
        return ""
    started = float(session.get(SIGNED_IN_AT, moment))
    last = float(session.get(LAST_SEEN, moment))
    if moment - started > settings.CAMPUSCONF_SESSION_MAX_HOURS * 3600:
        return "expired"
    if moment - last > int(session[IDLE_MINUTES]) * 60:
        return "idle"
    background = request.method == "GET" and request.headers.get("HX-Request") == "true"
    if not background and moment - last >= TOUCH_SECONDS:
        session[LAST_SEEN] = moment
    return ""


def take_notice(request: HttpRequest) -> str:
    """Why the last session ended, once, for the sign-in pages."""
    return str(request.session.pop(ENDED, ""))


class SessionLimitsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        reason = ended_reason(request)
        if not reason:
            return self.get_response(request)
        logger.info("session ended: user=%s reason=%s", user.get_username(), reason)
        logout(request)
        request.session[ENDED] = reason
        # The view now sees an anonymous visitor and sends them to its sign-in page.
        response = self.get_response(request)
        if request.headers.get("HX-Request") == "true":
            response["HX-Refresh"] = "true"  # reload the whole page, not a fragment
        return response
