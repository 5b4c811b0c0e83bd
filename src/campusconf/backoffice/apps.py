from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    default = True
    name = "campusconf.backoffice"
    label = "backoffice"
    verbose_name = _("Staff back office")


class SuperuserAdminConfig(admin_apps.AdminConfig):
    """Django admin edits rows directly, around the lifecycle and the audit log, so
    only superusers get it; IT staff work in the back office."""

    default = False
    default_site = "campusconf.backoffice.admin_site.SuperuserAdminSite"
