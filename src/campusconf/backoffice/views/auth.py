from django.contrib.auth import views as auth_views
from django.urls import reverse

from campusconf.backoffice.forms import StaffLoginForm


class StaffLoginView(auth_views.LoginView):
    template_name = "backoffice/login.html"
    authentication_form = StaffLoginForm

    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:home")


class StaffLogoutView(auth_views.LogoutView):
    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:login")
