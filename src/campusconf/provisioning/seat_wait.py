"""``SeatWait``, the seat queue's rows (``models.py`` imports it; kept apart so that
module stays short). The queue's rules own it, so it lives with them, in the engine's app.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SeatWait(models.Model):
    """A member's place in the queue for a service whose seats are all taken.

    First come, first served by ``created_at`` then id. A row is never deleted: when
    a seat frees up it is marked admitted (the application went through) or dropped
    (the member could no longer have the account, or left the queue), so the queue's
    history stays. The logic is in ``seats.py`` and ``seat_admission.py``.
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
        # The table kept its name when the model moved here from the back office.
        db_table = "backoffice_seatwait"
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
