from django.db import models
from django.utils.translation import gettext_lazy as _


class StaffAccess(models.Model):
    """No table: it only carries the ``backoffice.access`` permission, so staff rights
    can be given through Django groups without making someone an admin user."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("access", _("Can use the staff back office"))]

    def __str__(self) -> str:
        return "backoffice access"
