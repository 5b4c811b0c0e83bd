from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from campusconf.audit.actors import kind_of_name


class AuditEntryIsFinal(Exception):
    """An audit entry was about to be changed or deleted; the log only grows."""


class AuditEntry(models.Model):
    """One change made by a person: who, when, what, to which row, and why.

    Append-only, like AccountEvent: the answer to "who did this and why" must not
    depend on nobody having edited the answer afterwards.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("who"),
    )
    # Kept beside the key so the log still reads right if the user is renamed.
    actor_name = models.CharField(_("who (name)"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    target_type = models.CharField(_("target type"), max_length=64, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    target_label = models.CharField(_("target"), max_length=200, blank=True)
    reason = models.TextField(_("reason"))
    details = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_name} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditEntryIsFinal("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditEntryIsFinal("audit entries are append-only")

    @property
    def actor_kind(self) -> str:
        """One of ``actors.Kind``: the audit log's filter of the same name."""
        return kind_of_name(self.actor_name, self.actor).value
