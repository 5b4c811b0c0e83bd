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


class SeatWait(models.Model):
    """A member's place in the queue for a service whose seats are all taken.

    First come, first served by ``created_at`` then id. A row is never deleted: when
    a seat frees up it is marked admitted (the application went through) or dropped
    (the member could no longer have the account, or left the queue), so the queue's
    history stays. The logic is the engine's: ``campusconf.provisioning.seats``.
    """

    class Outcome(models.TextChoices):
        WAITING = "waiting", _("waiting")
        ADMITTED = "admitted", _("admitted")
        DROPPED = "dropped", _("dropped")

    member = models.ForeignKey(
        "members.Member", on_delete=models.PROTECT, related_name="seat_waits"
    )
    service = models.ForeignKey(
        "services.Service", on_delete=models.PROTECT, related_name="seat_waits"
    )
    # A campaign's member waits like anyone else; admitted, the job joins the campaign.
    campaign = models.ForeignKey(
        "provisioning.Campaign",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="seat_waits",
    )
    outcome = models.CharField(
        _("outcome"), max_length=8, choices=Outcome.choices, default=Outcome.WAITING
    )
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("waiting since"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("seat wait")
        verbose_name_plural = _("seat waits")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "service"],
                condition=models.Q(outcome="waiting"),
                name="seatwait_one_waiting_per_service",
            )
        ]
        indexes = [models.Index(fields=["service", "outcome", "created_at"])]

    def __str__(self) -> str:
        return f"{self.member_id} waits for {self.service_id} ({self.outcome})"


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
