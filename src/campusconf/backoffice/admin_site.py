from urllib.parse import urlencode

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse


class SuperuserAdminSite(AdminSite):
    """Superusers only, signed in with their one-time code (django-otp's verification).

    The admin has no password form of its own: its sign-in is the staff sign-in page,
    so the one break-glass form, with its second factor and lockout, guards both.
    """

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        verified = getattr(user, "is_verified", lambda: False)()
        return bool(user.is_active and user.is_superuser and verified)

    def login(
        self, request: HttpRequest, extra_context: dict[str, object] | None = None
    ) -> HttpResponse:
        target = request.GET.get("next") or reverse("admin:index")
        query = urlencode({"next": target})
        return HttpResponseRedirect(f"{reverse('backoffice:login')}?{query}")
