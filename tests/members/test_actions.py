"""members.actions: each refusal with its exact message, and nothing written when refused."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from campusconf.members.actions import mark_left, register_member, set_preferred_language
from campusconf.members.models import Member, MemberAddress

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def register(common_id="2000000001", **over):
    fields = {
        "common_id": common_id,
        "family_name_latin": "Sato",
        "given_name_latin": "Ken",
        "roles": ["staff"],
        "university_account_created_on": datetime.date(2020, 4, 1),
        "mail_address": f"{common_id}@g.ecc.example.ac.jp",
        **over,
    }
    return register_member(**fields)


def refusal(**over) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        register(**over)
    assert not Member.objects.filter(common_id=over.get("common_id", "2000000001")).exists()
    return refused.value.message_dict


def test_a_member_is_saved_with_every_field_and_its_addresses_in_order():
    member = register(
        mail_address=" Ken.Sato@g.ecc.example.ac.jp ",
        aliases=["k.sato@g.ecc.example.ac.jp", "2000000001@g.ecc.example.ac.jp"],
        roles=["staff", "faculty"],
        family_name_ja="佐藤",
        given_name_ja="健",
        affiliation="Library",
        affiliation_ja="附属図書館",
        preferred_language="en",
    )
    stored = Member.objects.get(pk=member.pk)
    assert stored.affiliation_ja == "附属図書館"
    assert (
        stored.common_id,
        stored.family_name_ja,
        stored.given_name_ja,
        stored.family_name_latin,
        stored.given_name_latin,
        stored.affiliation,
        stored.roles,
        stored.university_account_created_on,
        stored.preferred_language,
        stored.status,
    ) == (
        "2000000001",
        "佐藤",
        "健",
        "Sato",
        "Ken",
        "Library",
        "faculty staff",
        datetime.date(2020, 4, 1),
        "en",
        "active",
    )
    rows = list(
        MemberAddress.objects.filter(member=member)
        .order_by("pk")
        .values_list("address", "is_primary")
    )
    assert rows == [
        ("Ken.Sato@g.ecc.example.ac.jp", True),
        ("k.sato@g.ecc.example.ac.jp", False),
        ("2000000001@g.ecc.example.ac.jp", False),
    ]


def test_defaults_are_japanese_and_blank():
    member = register()
    assert (
        member.preferred_language,
        member.affiliation,
        member.family_name_ja,
        member.given_name_ja,
    ) == ("ja", "", "", "")
    assert list(member.addresses.values_list("address", flat=True)) == [
        "2000000001@g.ecc.example.ac.jp"
    ]


def test_an_unknown_role_is_refused_under_roles():
    assert refusal(roles=["staff", "dean"]) == {
        "roles": ["Unknown role dean: roles must be among faculty, staff, student."]
    }


def test_no_address_is_refused():
    with pytest.raises(ValidationError) as refused:
        from campusconf.members.actions import _check_addresses

        _check_addresses([], None)
    assert refused.value.message_dict == {
        "addresses": ["A member needs a university mail address."]
    }


def test_the_same_address_twice_is_refused_whatever_its_case_and_spaces():
    assert refusal(aliases=[" 2000000001@G.ECC.example.ac.jp"]) == {
        "addresses": ["The same address is listed twice."]
    }


def test_another_members_address_is_refused_and_named():
    register("2000000002", mail_address="shared@g.ecc.example.ac.jp")
    with pytest.raises(ValidationError) as refused:
        register(aliases=["Shared@G.ecc.example.ac.jp"])
    assert refused.value.message_dict == {
        "addresses": ["shared@g.ecc.example.ac.jp is already used by another member."]
    }
    assert not Member.objects.filter(common_id="2000000001").exists()


def test_a_member_may_keep_its_own_addresses():
    from campusconf.members.actions import _check_addresses

    member = register()
    _check_addresses(["2000000001@g.ecc.example.ac.jp"], member)  # no clash with itself
    with pytest.raises(ValidationError):
        _check_addresses(["2000000001@g.ecc.example.ac.jp"], None)
    with pytest.raises(ValidationError):
        _check_addresses(["2000000001@g.ecc.example.ac.jp"], Member(common_id="2000000009"))


def test_a_malformed_address_is_refused_and_nothing_is_saved():
    errors = refusal(aliases=["not an address"])
    assert errors and "address" in errors


def test_a_member_that_fails_its_own_checks_is_not_saved():
    errors = refusal(common_id="12345")
    assert list(errors) == ["common_id"]
    assert not MemberAddress.objects.exists()


def test_mark_left_stores_the_status_and_date():
    member = register()
    mark_left(member, datetime.date(2026, 9, 30))
    stored = Member.objects.get(pk=member.pk)
    assert (stored.status, stored.left_on) == ("left", datetime.date(2026, 9, 30))


@pytest.mark.parametrize(
    ("start", "chosen", "changed", "stored"),
    [
        ("ja", "en", True, "en"),
        ("en", "ja", True, "ja"),
        ("ja", "ja", False, "ja"),
        ("ja", "fr", False, "ja"),  # not offered by the switcher
        ("en", "", False, "en"),
    ],
)
def test_the_chosen_language_is_remembered_only_when_it_changes(start, chosen, changed, stored):
    member = register(preferred_language=start)
    assert set_preferred_language(member, chosen) is changed
    assert member.preferred_language == stored
    assert Member.objects.get(pk=member.pk).preferred_language == stored
