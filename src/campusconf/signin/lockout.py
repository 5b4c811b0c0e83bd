"""The page django-axes shows instead of a password form's answer once an account is
locked out (``AXES_LOCKOUT_CALLABLE``): in the visitor's language, saying for how long."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def locked_out_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    return render(
        request,
        "signin/locked_out.html",
        {"minutes": settings.CAMPUSCONF_LOCKOUT_MINUTES},
        status=429,
    )
