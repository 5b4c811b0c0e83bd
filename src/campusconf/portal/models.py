from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.members.models import Member, affiliation_label
from campusconf.services.models import Service


class Inquiry(models.Model):
    """A member's question to the help desk, with the facts the seeds' template asks for.

    The account's state is copied at the time of asking, so the staff read what the
    member saw even after the engine has moved the account on.
    """

    class Status(models.TextChoices):
        # Named for whose turn it is, so the words read right to staff and member alike.
        OPEN = "open", _("waiting for the help desk")
        WAITING = "waiting", _("waiting for the member")
        RESOLVED = "resolved", _("resolved")

    class Topic(models.TextChoices):
        NO_MAIL = "no_mail", _("I got no invitation mail")
        WRONG_ACTIVATION = "wrong_activation", _("I activated the wrong way")
        USER_DOES_NOT_EXIST = "user_does_not_exist", _("“User does not exist” when activating")
        OTHER = "other", _("Something else")

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="inquiries")
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.PROTECT, related_name="inquiries"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="inquiries"
    )
    topic = models.CharField(_("topic"), max_length=24, choices=Topic.choices)
    account_state = models.CharField(_("account state when asked"), max_length=20, blank=True)
    account_facts = models.JSONField(_("account facts when asked"), default=dict, blank=True)
    affiliation = models.CharField(_("affiliation"), max_length=200)
    affiliation_ja = models.CharField(_("affiliation (Japanese)"), max_length=200, blank=True)
    common_id = models.CharField(_("common ID"), max_length=10)
    what_happened = models.TextField(_("what happened"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("inquiry")
        verbose_name_plural = _("inquiries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.common_id} {self.topic} ({self.status})"

    @property
    def affiliation_label(self) -> str:
        """The affiliation as it was when asked, in the reader's language."""
        return affiliation_label(self.affiliation, self.affiliation_ja)

    def account_state_label(self) -> str:
        """The state as the reader's language names it; the stored code is for machines."""
        try:
            return str(State(self.account_state).label)
        except ValueError:
            return self.account_state


class InquiryReply(models.Model):
    inquiry = models.ForeignKey(Inquiry, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    from_staff = models.BooleanField(_("from the help desk"), default=True)
    body = models.TextField(_("reply"))
    created_at = models.DateTimeField(_("written at"), auto_now_add=True)

    class Meta:
        verbose_name = _("inquiry reply")
        verbose_name_plural = _("inquiry replies")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"reply to #{self.inquiry_id}"


class Notice(models.Model):
    """One mail notice to a member, written in the same transaction as the change that
    calls for it (an outbox), and sent later by the workers' ``notices`` schedule.

    ``key`` names the occasion (the invitation's time, the expiry date, the event), so
    one occasion yields one row whoever queues it and however often: the unique
    constraint is what makes "exactly once" hold across workers and retries.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting to be sent")
        SENT = "sent", _("sent")
        SKIPPED = "skipped", _("no longer applies")

    # The unique (account, kind, key) below serves look-ups by account.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="notices", db_index=False
    )
    kind = models.CharField(_("kind"), max_length=32)
    key = models.CharField(_("occasion"), max_length=64, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    # When the sender may next try; a worker that claims a row moves this forward,
    # so a second worker does not pick it up while the first is still talking SMTP.
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("mail notice")
        verbose_name_plural = _("mail notices")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "kind", "key"], name="portal_notice_once_per_occasion"
            )
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.kind} for account {self.account_id} ({self.status})"
