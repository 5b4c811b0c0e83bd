from django.conf import settings
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


class ApiToken(models.Model):
    """A staff member's token for the JSON API. Only its SHA-256 digest is stored:
    the token is 32 random bytes, so a slow password hash would add nothing but
    latency to every call. Shown once at creation; revoked, never deleted."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
