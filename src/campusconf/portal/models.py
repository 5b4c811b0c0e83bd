from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from campusconf.accounts.models import Account
from campusconf.members.models import Member
from campusconf.services.models import Service


class Inquiry(models.Model):
    """A member's question to the help desk, with the facts the seeds' template asks for.

    The account's state is copied at the time of asking, so the staff read what the
    member saw even after the engine has moved the account on.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        WAITING = "waiting", _("waiting for you")
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
