import datetime

import pytest

from campusconf.members.actions import mark_left
from campusconf.services.eligibility import check_eligibility

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
