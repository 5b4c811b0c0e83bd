"""Bad input is refused with a message naming the field and the rule; nothing is saved."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from campusconf.members.actions import register_member
from campusconf.members.models import Member, MemberAddress

pytestmark = pytest.mark.django_db


def member_fields(**overrides):
    fields = {
        "common_id": "1234567890",
        "family_name_latin": "Suzuki",
        "given_name_latin": "Aoi",
        "roles": ["student"],
        "university_account_created_on": datetime.date(2024, 4, 1),
        "mail_address": "1234567890@g.ecc.example.ac.jp",
    }
    fields.update(overrides)
    return fields


@pytest.mark.parametrize(
    "bad_id", ["123456789", "12345678901", "12345abcde", "", "１２３４５６７８９０"]
)
def test_common_id_must_be_ten_digits(bad_id):
    with pytest.raises(ValidationError) as refused:
        register_member(**member_fields(common_id=bad_id))
    assert "common_id" in refused.value.message_dict
    assert Member.objects.count() == 0


def test_duplicate_common_id_is_refused(make_member):
    existing = make_member()
    with pytest.raises(ValidationError) as refused:
        register_member(**member_fields(common_id=existing.common_id))
    assert "common_id" in refused.value.message_dict
    assert Member.objects.count() == 1


def test_address_of_another_member_is_refused_whatever_its_case(make_member):
    existing = make_member(aliases=("Hanako.Alias@g.ecc.example.ac.jp",))
    for taken in (existing.mail_address.upper(), "hanako.alias@G.ECC.example.ac.jp"):
        with pytest.raises(ValidationError) as refused:
            register_member(**member_fields(mail_address=taken))
        assert "already used by another member" in refused.value.message_dict["addresses"][0]
    assert Member.objects.count() == 1
    assert MemberAddress.objects.count() == 2


def test_the_database_itself_refuses_a_duplicate_address(make_member):
    from django.db import IntegrityError, transaction

    existing = make_member()
    other = make_member()
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberAddress.objects.create(member=other, address=existing.mail_address.upper())


def test_unknown_role_is_refused():
    with pytest.raises(ValidationError) as refused:
        register_member(**member_fields(roles=["student", "wizard"]))
    assert "wizard" in refused.value.message_dict["roles"][0]
    assert Member.objects.count() == 0


def test_a_member_with_aliases_is_saved_with_every_address():
    member = register_member(**member_fields(aliases=["aoi.suzuki@g.ecc.example.ac.jp"]))
    assert member.mail_address == "1234567890@g.ecc.example.ac.jp"
    assert member.alias_addresses == ["aoi.suzuki@g.ecc.example.ac.jp"]
