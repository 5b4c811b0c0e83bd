"""Adding and changing members: every rule checked before anything is written."""

import datetime
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from campusconf.members.models import Member, MemberAddress
from campusconf.members.roles import join_roles


def _check_addresses(addresses: Sequence[str], member: Member | None) -> None:
    lowered = [a.strip().lower() for a in addresses]
    if not lowered:
        raise ValidationError({"addresses": _("A member needs a university mail address.")})
    if len(set(lowered)) != len(lowered):
        raise ValidationError({"addresses": _("The same address is listed twice.")})
    taken = MemberAddress.objects.annotate(key=Lower("address")).filter(key__in=lowered)
    if member is not None and member.pk is not None:
        taken = taken.exclude(member=member)
    clash = taken.select_related("member").first()
    if clash is not None:
        raise ValidationError(
            {
                "addresses": _("%(address)s is already used by another member.")
                % {"address": clash.address}
            },
            code="address_taken",
        )
    for address in addresses:
        MemberAddress(address=address.strip()).clean_fields(exclude=["member"])


def register_member(
    *,
    common_id: str,
    family_name_latin: str,
    given_name_latin: str,
    roles: Sequence[str],
    university_account_created_on: datetime.date,
    mail_address: str,
    aliases: Sequence[str] = (),
    family_name_ja: str = "",
    given_name_ja: str = "",
    affiliation: str = "",
    affiliation_ja: str = "",
    preferred_language: str = "ja",
) -> Member:
    """Create a member with its addresses, or raise ValidationError and save nothing."""
    try:
        role_text = join_roles(list(roles))
    except ValidationError as error:
        raise ValidationError({"roles": error.messages}) from error
    member = Member(
        common_id=common_id,
        family_name_ja=family_name_ja,
        given_name_ja=given_name_ja,
        family_name_latin=family_name_latin,
        given_name_latin=given_name_latin,
        affiliation=affiliation,
        affiliation_ja=affiliation_ja,
        roles=role_text,
        university_account_created_on=university_account_created_on,
        preferred_language=preferred_language,
    )
    member.full_clean()
    all_addresses = [mail_address, *aliases]
    _check_addresses(all_addresses, None)
    with transaction.atomic():
        member.save()
        MemberAddress.objects.bulk_create(
            [
                MemberAddress(member=member, address=address.strip(), is_primary=index == 0)
                for index, address in enumerate(all_addresses)
            ]
        )
    return member


def mark_left(member: Member, left_on: datetime.date) -> None:
    member.status = Member.Status.LEFT
    member.left_on = left_on
    member.full_clean()
    member.save(update_fields=["status", "left_on", "updated_at"])


def set_preferred_language(member: Member, language: str) -> bool:
    """Remember the language the member chose; mails follow it. Returns True on a change.

    An unknown code changes nothing: the switcher only offers settings.LANGUAGES.
    """
    if language not in Member.Language.values:
        return False
    if member.preferred_language == language:
        return False
    Member.objects.filter(pk=member.pk).update(preferred_language=language)
    member.preferred_language = language
    return True
