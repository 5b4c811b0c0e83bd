from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from campusconf.members.roles import ROLE_LABELS, parse_roles, validate_roles

common_id_validator = RegexValidator(
    r"^[0-9]{10}\Z",  # ASCII digits only: \d would accept full-width ones
    message=_("A common ID is exactly 10 digits."),
    code="common_id_format",
)


def affiliation_label(english: str, japanese: str, language: str | None = None) -> str:
    """The Japanese name for a Japanese reader when the directory gave one, else English.

    ``language`` defaults to the active one (the page's or the mail's).
    """
    language = language or translation.get_language() or "ja"
    if language.startswith("ja") and japanese:
        return japanese
    return english or japanese


class Member(models.Model):
    """A person of the university, as the directory (SCIM or roster) knows them."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        LEFT = "left", _("left")

    class Language(models.TextChoices):
        JA = "ja", "日本語"
        EN = "en", "English"

    common_id = models.CharField(
        _("common ID"), max_length=10, unique=True, validators=[common_id_validator]
    )
    family_name_ja = models.CharField(_("family name (Japanese)"), max_length=100, blank=True)
    given_name_ja = models.CharField(_("given name (Japanese)"), max_length=100, blank=True)
    family_name_latin = models.CharField(_("family name (Latin)"), max_length=100)
    given_name_latin = models.CharField(_("given name (Latin)"), max_length=100)
    # The English name is the key campaigns and eligibility match on; the Japanese one
    # is only shown (affiliation_label), so a member without it still matches.
    affiliation = models.CharField(_("affiliation"), max_length=200, blank=True)
    affiliation_ja = models.CharField(_("affiliation (Japanese)"), max_length=200, blank=True)
    roles = models.CharField(_("roles"), max_length=64, validators=[validate_roles])
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE
    )
    left_on = models.DateField(_("left on"), null=True, blank=True)
    university_account_created_on = models.DateField(_("university account created on"))
    preferred_language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.JA
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="active", left_on__isnull=True)
                | models.Q(status="left", left_on__isnull=False),
                name="member_left_has_date",
                violation_error_message=_("A member who has left needs the date they left."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.common_id} {self.display_name_latin}"

    @property
    def display_name_ja(self) -> str:
        return f"{self.family_name_ja} {self.given_name_ja}".strip()

    @property
    def display_name_latin(self) -> str:
        return f"{self.given_name_latin} {self.family_name_latin}".strip()

    @property
    def affiliation_label(self) -> str:
        """The affiliation in the reader's language, for pages and mails."""
        return affiliation_label(self.affiliation, self.affiliation_ja)

    @property
    def role_list(self) -> list[str]:
        return parse_roles(self.roles)

    @property
    def role_labels(self) -> str:
        """The roles in the reader's language ("教員, 職員"), for pages; roles stays the key."""
        return ", ".join(str(ROLE_LABELS[role]) for role in self.role_list)

    @property
    def is_active_member(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def mail_address(self) -> str:
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("addresses")
        if prefetched is not None:  # a page that shows it several times read them once
            primaries = sorted((a.pk, a.address) for a in prefetched if a.is_primary)
            return primaries[0][1] if primaries else ""
        primary = self.addresses.filter(is_primary=True).first()
        return primary.address if primary else ""

    @property
    def alias_addresses(self) -> list[str]:
        return [a.address for a in self.addresses.filter(is_primary=False).order_by("address")]


class MemberAddress(models.Model):
    """A university mail address of a member: the primary one or an alias.

    All addresses of all members live in one table so that the rule "every address
    is unique across members, whatever its case" is one database constraint.
    """

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="addresses")
    address = models.EmailField(_("mail address"), max_length=254)
    is_primary = models.BooleanField(_("primary"), default=False)

    class Meta:
        verbose_name = _("mail address")
        verbose_name_plural = _("mail addresses")
        constraints = [
            models.UniqueConstraint(
                Lower("address"),
                name="member_address_unique_ci",
                violation_error_message=_("This mail address is already used by a member."),
            ),
            models.UniqueConstraint(
                fields=["member"],
                condition=models.Q(is_primary=True),
                name="member_one_primary_address",
                violation_error_message=_("A member has exactly one primary address."),
            ),
        ]

    def __str__(self) -> str:
        return self.address
