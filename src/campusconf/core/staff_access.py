"""Who is staff. Here, below every app, because the back office, the audit log's page,
sign-in and ``/metrics`` all ask it. Rights come from any of:

- Django: ``is_staff``, superuser, or the ``backoffice.access`` permission
  (given directly or through a group);
- the university's SSO: membership of the group named by ``CAMPUSCONF_STAFF_GROUP``
  (the sign-in code adds the Django group of that name when the IdP says so), or the
  session flag ``STAFF_SESSION_KEY`` that a sign-in backend may set from an attribute.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse

STAFF_SESSION_KEY = "campusconf_staff"
ACCESS = ("backoffice", "access")  # the permission that opens the back office

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def is_staff_user(user: Any) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser or user.is_staff:
        return True
    # One statement for the permission (given directly or through a group) and the SSO
    # group, since every page's navigation asks (has_perm plus the group took three).
    # The sign-in backends grant permissions only through Django's own tables
    # (ModelBackend's rule), so this is the answer has_perm gives.
    rights = Q(
        user_permissions__codename=ACCESS[1], user_permissions__content_type__app_label=ACCESS[0]
    )
    rights |= Q(
        groups__permissions__codename=ACCESS[1],
        groups__permissions__content_type__app_label=ACCESS[0],
    )
    group = getattr(settings, "CAMPUSCONF_STAFF_GROUP", "")
    if group:
        rights |= Q(groups__name=group)
    return get_user_model()._default_manager.filter(rights, pk=user.pk).exists()


def is_staff_request(request: HttpRequest) -> bool:
    if is_staff_user(request.user):
        return True
    return request.user.is_authenticated and bool(request.session.get(STAFF_SESSION_KEY))


def staff_required(view: View) -> View:
    """Anonymous: to the staff sign-in page. Signed in without staff rights: 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
        if not is_staff_request(request):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return cast(View, wrapped)
