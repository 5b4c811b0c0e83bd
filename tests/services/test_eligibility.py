import datetime

import pytest
from django.utils import timezone, translation

from campusconf.members.actions import mark_left
from campusconf.services.eligibility import Eligibility, check_eligibility

pytestmark = pytest.mark.django_db


def test_role_decides(make_member, make_service):
    service = make_service(eligible_roles="faculty staff")
    assert check_eligibility(make_member(staff=True), service).eligible
    refused = check_eligibility(make_member(student=True), service)
    assert not refused.eligible and "offered to" in refused.reason


def test_roster_cut_off_date_decides(make_member, make_service):
    """S10: only students who held a university account on the cut-off date."""
    service = make_service(roster_cutoff=datetime.date(2026, 3, 24))
    assert check_eligibility(
        make_member(student=True, created_on=datetime.date(2026, 3, 24)), service
    ).eligible
    late = check_eligibility(
        make_member(student=True, created_on=datetime.date(2026, 3, 25)), service
    )
    assert not late.eligible and "2026-03-24" in late.reason


def test_affiliation_decides_when_listed(make_member, make_service):
    service = make_service(eligible_affiliations=["Faculty of Letters"])
    assert check_eligibility(make_member(affiliation="Faculty of Letters"), service).eligible
    assert not check_eligibility(make_member(affiliation="Faculty of Science"), service).eligible


def test_a_member_who_left_is_not_eligible(make_member, make_service):
    member = make_member()
    mark_left(member, datetime.date(2026, 9, 30))
    assert not check_eligibility(member, make_service()).eligible


# What the member reads is part of the rule: each refusal below is written out in full,
# in English, so a changed condition or a changed message both show.


def _decide(member, service):
    with translation.override("en"):
        return check_eligibility(member, service)


def test_an_eligible_member_gets_no_reason(make_member, make_service):
    assert _decide(make_member(), make_service()) == Eligibility(True, "")


def test_a_member_who_left_is_told_so(make_member, make_service):
    member = make_member()
    mark_left(member, datetime.date(2026, 9, 30))
    assert _decide(member, make_service()) == Eligibility(False, "You have left the university.")


@pytest.mark.parametrize(
    ("policy", "days_after_end", "expected"),
    [
        # The licence has ended (the day after "valid until"): no new accounts...
        (
            "suspend",
            1,
            Eligibility(False, "The university licence for this service ended on {end}."),
        ),
        (
            "deprovision",
            1,
            Eligibility(False, "The university licence for this service ended on {end}."),
        ),
        # ...unless the staff keeps the accounts (the licence is being renewed).
        ("keep", 1, Eligibility(True, "")),
        # On the last day itself the licence still holds.
        ("suspend", 0, Eligibility(True, "")),
        ("deprovision", -30, Eligibility(True, "")),
    ],
)
def test_an_ended_licence_refuses_new_accounts(
    make_member, make_service, policy, days_after_end, expected
):
    end = timezone.localdate() - datetime.timedelta(days=days_after_end)
    service = make_service(
        valid_from=end - datetime.timedelta(days=365), valid_until=end, licence_end_policy=policy
    )
    decided = _decide(make_member(), service)
    assert decided == Eligibility(expected.eligible, expected.reason.format(end=end.isoformat()))


def test_a_licence_without_an_end_never_ends(make_member, make_service):
    assert _decide(make_member(), make_service(valid_until=None)).eligible


def test_the_role_refusal_names_the_roles_offered(make_member, make_service):
    service = make_service(eligible_roles="faculty staff")
    assert _decide(make_member(student=True), service) == Eligibility(
        False, "This service is offered to: faculty, staff."
    )


def test_one_matching_role_among_several_is_enough(make_member, make_service):
    service = make_service(eligible_roles="student")
    assert _decide(make_member(faculty=True, student=True), service).eligible


def test_the_cut_off_refusal_names_both_dates(make_member, make_service):
    service = make_service(roster_cutoff=datetime.date(2026, 3, 24))
    late = make_member(student=True, created_on=datetime.date(2026, 4, 2))
    assert _decide(late, service) == Eligibility(
        False,
        "This service is offered to members whose university account existed on 2026-03-24; "
        "yours was created on 2026-04-02.",
    )


def test_no_cut_off_lets_any_account_date_in(make_member, make_service):
    recent = make_member(created_on=datetime.date(2099, 1, 1))
    assert _decide(recent, make_service(roster_cutoff=None)).eligible


def test_the_affiliation_refusal_is_told(make_member, make_service):
    service = make_service(eligible_affiliations=["Faculty of Letters"])
    assert _decide(make_member(affiliation="Faculty of Science"), service) == Eligibility(
        False, "This service is not offered to your affiliation."
    )


def test_no_listed_affiliation_lets_every_affiliation_in(make_member, make_service):
    assert _decide(
        make_member(affiliation="Anything"), make_service(eligible_affiliations=[])
    ).eligible
