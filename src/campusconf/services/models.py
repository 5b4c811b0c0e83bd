import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campusconf.members.roles import parse_roles, validate_roles

# Connector settings name the environment variables that hold secrets (keys ending in
# "_env"); a secret itself must never be written into the database.
SECRET_KEY_WORDS = ("token", "secret", "password", "key", "credential")
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*\Z")


def validate_connector_settings(value: Any) -> None:
    if not isinstance(value, dict):
        raise ValidationError(_("Connector settings must be a JSON object."), code="not_object")
    for key, item in value.items():
        if key.endswith("_env"):
            if not isinstance(item, str) or not ENV_NAME.match(item):
                raise ValidationError(
                    _("%(key)s must name an environment variable (A-Z, 0-9, _)."),
                    code="bad_env_name",
                    params={"key": key},
                )
        elif any(word in key.lower() for word in SECRET_KEY_WORDS):
            raise ValidationError(
                _(
                    "%(key)s looks like a secret: store it in an environment variable "
                    "and put that variable's name under %(key)s_env."
                ),
                code="secret_in_database",
                params={"key": key},
            )


class LicenceEndPolicy(models.TextChoices):
    """What the engine does to a service's live accounts when its licence ends."""

    SUSPEND = "suspend", _("suspend the accounts")
    DEPROVISION = "deprovision", _("remove the accounts at the vendor")
    KEEP = "keep", _("nothing (the licence is renewed)")


class Service(models.Model):
    """A licensed offering at a vendor, with its terms and who may have it."""

    class Vendor(models.TextChoices):
        WEBEX = "webex", "Webex"
        ZOOM = "zoom", "Zoom"
        SCIM = "scim", _("SCIM 2.0 service")

    slug = models.SlugField(_("slug"), unique=True)
    vendor = models.CharField(_("vendor"), max_length=8, choices=Vendor.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    display_order = models.PositiveSmallIntegerField(default=0)
    name_ja = models.CharField(_("name (Japanese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description_ja = models.TextField(_("description (Japanese)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)

    # Licence terms (S16).
    plan_name = models.CharField(_("plan"), max_length=100)
    seats = models.PositiveIntegerField(_("seats"), null=True, blank=True)
    max_participants = models.PositiveIntegerField(_("maximum participants"))
    webinars = models.BooleanField(_("webinars"), default=False)
    end_to_end_encryption = models.BooleanField(_("end-to-end encrypted meetings"), default=False)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    licence_end_policy = models.CharField(
        _("at the licence end"),
        max_length=12,
        choices=LicenceEndPolicy.choices,
        default=LicenceEndPolicy.SUSPEND,
        help_text=_(
            "What happens to the accounts the day after “valid until”. To renew, move "
            "“valid until” instead: the pending end is then cancelled."
        ),
    )
    # The "valid until" each licence-end step was last carried out for: the steps run
    # once per end date, and moving the date (a renewal) makes them pending again.
    licence_notice_sent_for = models.DateField(null=True, blank=True, editable=False)
    licence_end_applied_for = models.DateField(null=True, blank=True, editable=False)
    invitation_validity_days = models.PositiveSmallIntegerField(
        _("invitation validity (days)"),
        validators=[MinValueValidator(1, message=_("An invitation is valid for at least 1 day."))],
    )

    # Eligibility (S10, S11).
    eligible_roles = models.CharField(
        _("eligible roles"), max_length=64, validators=[validate_roles]
    )
    roster_cutoff = models.DateField(
        _("roster cut-off date"),
        null=True,
        blank=True,
        help_text=_("Only members whose university account existed on this date are eligible."),
    )
    eligible_affiliations = models.JSONField(
        _("eligible affiliations"),
        default=list,
        blank=True,
        help_text=_("Empty: every affiliation."),
    )

    connector_settings = models.JSONField(
        _("connector settings"),
        default=dict,
        blank=True,
        validators=[validate_connector_settings],
        help_text=_("Base URLs and the names of the environment variables holding credentials."),
    )

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invitation_validity_days__gte=1),
                name="service_invitation_validity_positive",
                violation_error_message=_("An invitation is valid for at least 1 day."),
            ),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="service_validity_ordered",
                violation_error_message=_("The licence must end after it starts."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_ja if translation.get_language() == "ja" else self.name_en

    @property
    def description(self) -> str:
        return self.description_ja if translation.get_language() == "ja" else self.description_en

    @property
    def eligible_role_list(self) -> list[str]:
        return parse_roles(self.eligible_roles)

    def clean(self) -> None:
        if not self.eligible_roles.strip():
            raise ValidationError(
                {"eligible_roles": _("At least one role must be eligible.")}, code="no_roles"
            )
        if not isinstance(self.eligible_affiliations, list) or not all(
            isinstance(a, str) for a in self.eligible_affiliations
        ):
            raise ValidationError(
                {"eligible_affiliations": _("Eligible affiliations are a list of names.")},
                code="bad_affiliations",
            )
