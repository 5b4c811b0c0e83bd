import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from campusconf.members.models import Member


class ScimClient(models.Model):
    """An identity system allowed to push members over SCIM, with its own bearer token.

    Only the SHA-256 of the token is stored: the token is shown once, when created.
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    # Rights chosen when the token is made: reading, writing (create, replace, patch,
    # delete) and, on top of writing, making members leave (active=false, DELETE).
    can_read = models.BooleanField(_("may read"), default=False)
    can_write = models.BooleanField(_("may write"), default=False)
    can_deactivate = models.BooleanField(_("may deactivate members"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SCIM client")
        verbose_name_plural = _("SCIM clients")

    def __str__(self) -> str:
        return self.name

    @property
    def scopes(self) -> list[str]:
        granted = [("read", self.can_read), ("write", self.can_write)]
        return [name for name, on in [*granted, ("deactivate", self.can_deactivate)] if on]


class ScimUser(models.Model):
    """A SCIM User resource as the identity system sent it, and the member it feeds.

    ``resource`` keeps every attribute sent (so a client reads back what it wrote);
    the indexed columns beside it exist for filters. ``member`` is empty while no
    common ID can be derived (``pending_reason`` says why): such a record can
    neither sign in nor apply, and the back office lists it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_name = models.CharField(_("user name"), max_length=255)
    external_id = models.CharField(_("external ID"), max_length=255, blank=True, db_index=True)
    active = models.BooleanField(_("active"), default=True)
    # Lower-cased addresses between spaces (" a@x b@y "), so that emails.value
    # filters stay one LIKE in the database on both engines.
    email_index = models.TextField(blank=True)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    resource = models.JSONField(default=dict)
    member = models.OneToOneField(
        Member, null=True, blank=True, on_delete=models.SET_NULL, related_name="scim_user"
    )
    pending_reason = models.CharField(_("why no member"), max_length=200, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("SCIM user")
        verbose_name_plural = _("SCIM users")
        constraints = [
            # userName is not case-exact in RFC 7643, so neither is its uniqueness.
            models.UniqueConstraint(Lower("user_name"), name="scim_user_name_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.user_name


class ScimGroup(models.Model):
    """A SCIM Group: a role (its displayName is a role name) or any other group."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(_("display name"), max_length=255)
    external_id = models.CharField(_("external ID"), max_length=255, blank=True)
    resource = models.JSONField(default=dict)
    users = models.ManyToManyField(ScimUser, blank=True, related_name="groups")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last modified"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("SCIM group")
        verbose_name_plural = _("SCIM groups")

    def __str__(self) -> str:
        return self.display_name


class LeaverNotice(models.Model):
    """The notice a member who left was sent, and when their accounts were let go.

    One row per departure (member, left_on): a member who comes back and leaves
    again is told again.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="leaver_notices")
    left_on = models.DateField(_("left on"))
    notified_at = models.DateTimeField(_("told at"))
    deprovision_on = models.DateField(_("accounts removed on"))
    deprovisioned_at = models.DateTimeField(_("accounts removed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("leaver notice")
        verbose_name_plural = _("leaver notices")
        constraints = [
            models.UniqueConstraint(fields=["member", "left_on"], name="leaver_notice_once"),
        ]

    def __str__(self) -> str:
        return f"{self.member.common_id} left {self.left_on}"


class HeldDeactivation(models.Model):
    """A SCIM client's deactivation past the mass-change guard, waiting for staff.

    The client's request was refused (409) and changed nothing; this row keeps what it
    asked for — the user's resource as it would have become, or its deletion — so that
    staff can apply it (approve) or drop it (reject). At most one waits per user: the
    client's retries find it rather than adding more.
    """

    class Kind(models.TextChoices):
        DEACTIVATE = "deactivate", _("deactivate")
        DELETE = "delete", _("delete")

    class Status(models.TextChoices):
        HELD = "held", _("waiting for staff")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    client = models.ForeignKey(
        ScimClient, on_delete=models.PROTECT, related_name="held_deactivations"
    )
    scim_user = models.ForeignKey(
        ScimUser, null=True, on_delete=models.SET_NULL, related_name="held_deactivations"
    )
    member = models.ForeignKey(
        Member, null=True, on_delete=models.SET_NULL, related_name="held_deactivations"
    )
    user_name = models.CharField(_("user name"), max_length=255)
    kind = models.CharField(_("what"), max_length=10, choices=Kind.choices)
    # The resource as the client asked it to become; empty for a deletion.
    resource = models.JSONField(default=dict, blank=True)
    # The user's version when the client asked: a later change makes the request stale.
    base_version = models.PositiveIntegerField()
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.HELD
    )
    created_at = models.DateTimeField(_("held since"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("held deactivation")
        verbose_name_plural = _("held deactivations")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scim_user"],
                condition=models.Q(status="held"),
                name="held_deactivation_one_per_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.user_name} ({self.status})"
