from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.reasons import Reason, render
from campusconf.accounts.states import Cause, DesiredState, State
from campusconf.members.models import Member
from campusconf.services.models import Service


class Account(models.Model):
    """One member's account at one service: what we intend, and what the vendor has.

    ``state`` changes only through ``campusconf.accounts.lifecycle.transition``.
    """

    class Observed(models.TextChoices):
        UNKNOWN = "unknown", _("not yet seen")
        ABSENT = "absent", _("absent")
        PENDING = "pending", _("pending")
        ACTIVE = "active", _("active")
        INACTIVE = "inactive", _("inactive")

    # No index of their own: the unique (member, service) and the (service, …) indexes
    # below serve both look-ups, and every index is written again at each state change.
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="accounts", db_index=False
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="accounts", db_index=False
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices)
    desired_state = models.CharField(
        _("desired state"),
        max_length=8,
        choices=DesiredState.choices,
        default=DesiredState.PRESENT,
    )
    observed_state = models.CharField(
        _("observed vendor state"),
        max_length=8,
        choices=Observed.choices,
        default=Observed.UNKNOWN,
    )
    vendor_user_id = models.CharField(_("vendor user id"), max_length=200, blank=True)
    vendor_address = models.EmailField(_("address at the vendor"), blank=True)
    observed_login_type = models.CharField(_("observed sign-in method"), max_length=32, blank=True)
    observed_licensed = models.BooleanField(_("observed licence"), null=True)
    invitation_sent_at = models.DateTimeField(_("invitation sent at"), null=True, blank=True)
    invitation_expires_at = models.DateTimeField(_("invitation expires at"), null=True, blank=True)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)
    last_reconciled_at = models.DateTimeField(_("last reconciled at"), null=True, blank=True)
    last_error_code = models.CharField(_("last error code"), max_length=64, blank=True)
    # Why the last failure happened, as a reason code (campusconf.accounts.reasons) and
    # its parameters (the vendor's words among them); ``last_error_message`` renders it.
    last_error_reason = models.CharField(
        _("last error"), max_length=40, choices=Reason.choices, blank=True
    )
    last_error_params = models.JSONField(_("last error's details"), default=dict, blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            # One row per member and service, reused when a removed account is
            # applied for again: so there can never be two live accounts.
            models.UniqueConstraint(fields=["member", "service"], name="account_one_per_service"),
        ]
        indexes = [
            models.Index(fields=["service", "state"]),
            models.Index(fields=["service", "vendor_user_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.member.common_id} @ {self.service.slug}: {self.state}"

    @property
    def last_error_message(self) -> str:
        """The last failure's reason in the active language."""
        return render(self.last_error_reason, self.last_error_params)


class Application(models.Model):
    """A member's request for an account at a service, and what became of it."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="applications")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="applications")
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="applications"
    )
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_reason = models.TextField(_("reason"), blank=True)
    created_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")

    def __str__(self) -> str:
        return f"{self.member.common_id} → {self.service.slug} ({self.outcome})"


class AppendOnlyError(Exception):
    pass


class AccountEvent(models.Model):
    """One change of an account's state. Append-only: replaying them gives the state."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices)
    cause = models.CharField(_("cause"), max_length=10, choices=Cause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # indexed below where set: the engine's own events have none
    )
    # Why, as a code and its parameters (campusconf.accounts.reasons): rendered in the
    # reader's language, compared by code.
    reason_code = models.CharField(_("reason"), max_length=40, choices=Reason.choices, blank=True)
    reason_params = models.JSONField(_("reason's details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("account event")
        verbose_name_plural = _("account events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="event_by_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.from_state or '∅'} → {self.to_state} ({self.cause})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("account events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("account events are append-only")

    @property
    def reason(self) -> str:
        """The reason's text in the active language."""
        return render(self.reason_code, self.reason_params)
