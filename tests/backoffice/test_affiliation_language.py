"""The back office shows each affiliation in the staff member's language (issue #22):
member pages, the campaign form's list and its preview; the CSVs and the API carry both
names, since a script or a spreadsheet picks its own."""

import csv
import io

import pytest

from campusconf.accounts.states import State
from campusconf.backoffice.tokens import issue_token
from campusconf.portal.inquiries import open_inquiry
from campusconf.portal.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.fixture
def scientist(make_member):
    return make_member(student=True, affiliation="Faculty of Science", affiliation_ja="理学部")


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [("ja", "理学部", "Faculty of Science"), ("en", "Faculty of Science", "理学部")],
)
def test_member_pages_show_the_affiliation_in_the_staff_members_language(
    staff_client, scientist, make_member, make_service, make_account, language, shown, hidden
):
    service = make_service()
    account = make_account(scientist, service, State.INVITED)
    inquiry = open_inquiry(scientist, None, Inquiry.Topic.OTHER, "Hello?")
    # Listed among the members without an account, with the way to apply for them.
    newcomer = make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    headers = {"accept-language": language}
    for url in (
        f"/staff/accounts/{account.pk}/",
        f"/staff/accounts/?q={newcomer.common_id}",
        f"/staff/accounts/members/{newcomer.pk}/apply/{service.slug}/",
        f"/staff/inquiries/{inquiry.pk}/",
    ):
        page = staff_client.get(url, headers=headers).content.decode()
        assert shown in page and hidden not in page, url


def test_an_affiliation_without_a_japanese_name_shows_in_english(
    staff_client, make_member, make_service, make_account
):
    account = make_account(make_member(affiliation="Library"), make_service(), State.INVITED)
    page = staff_client.get(f"/staff/accounts/{account.pk}/", headers={"accept-language": "ja"})
    assert "<dd>Library</dd>" in page.content.decode()


def test_the_campaign_forms_list_offers_japanese_names_and_keeps_the_english_key(
    staff_client, scientist, make_member, make_service
):
    make_service()
    make_member(affiliation="Library")
    make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    ja = staff_client.get("/staff/campaigns/new/", headers={"accept-language": "ja"})
    assert '<option value="Faculty of Science">理学部</option>' in ja.content.decode()
    assert '<option value="Library">Library</option>' in ja.content.decode()
    en = staff_client.get("/staff/campaigns/new/", headers={"accept-language": "en"})
    assert '<option value="Faculty of Science">Faculty of Science</option>' in en.content.decode()


def test_the_most_common_japanese_name_wins_while_sources_disagree(make_member):
    from campusconf.members.affiliations import japanese_names

    make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    make_member(affiliation="Faculty of Science", affiliation_ja="理学研究科")
    make_member(affiliation="Faculty of Science")
    make_member(affiliation="Library")
    assert japanese_names() == {"Faculty of Science": "理学部", "Library": ""}


def test_the_preview_shows_japanese_names_and_its_csv_carries_both(
    staff_client, scientist, make_service
):
    service = make_service()
    response = staff_client.post(
        "/staff/campaigns/new/",
        {"service": service.slug, "affiliations": ["Faculty of Science"], "preview": "1"},
    )
    assert response.status_code == 302, response.content.decode()
    url = response["Location"]
    page = staff_client.get(url, headers={"accept-language": "ja"}).content.decode()
    assert '<span class="muted">理学部</span>' in page
    key = url.split("preview=")[1].split("#")[0]
    body = b"".join(staff_client.get(f"/staff/campaigns/preview/{key}.csv").streaming_content)
    (row,) = csv.DictReader(io.StringIO(body.decode()))
    assert (row["affiliation"], row["affiliation_ja"]) == ("Faculty of Science", "理学部")


def test_the_accounts_csv_carries_both_names(staff_client, scientist, make_service, make_account):
    service = make_service()
    make_account(scientist, service, State.INVITED)
    response = staff_client.get(f"/staff/services/{service.slug}/accounts.csv")
    (row,) = csv.DictReader(io.StringIO(response.content.decode()))
    assert (row["affiliation"], row["affiliation_ja"]) == ("Faculty of Science", "理学部")


def test_the_api_gives_both_names(client, staff_user, scientist, make_service, make_account):
    token = issue_token(staff_user, "tests", reason="test suite")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    account = make_account(scientist, make_service(), State.INVITED)
    body = client.get(f"/staff/api/v1/accounts/{account.pk}", **auth).json()
    assert (body["affiliation"], body["affiliation_ja"]) == ("Faculty of Science", "理学部")
    open_inquiry(scientist, None, Inquiry.Topic.OTHER, "Hello?")
    (inquiry,) = client.get("/staff/api/v1/inquiries", **auth).json()["results"]
    assert (inquiry["affiliation"], inquiry["affiliation_ja"]) == ("Faculty of Science", "理学部")


@pytest.mark.parametrize(("language", "shown"), [("ja", "理学部"), ("en", "Faculty of Science")])
def test_a_campaigns_page_names_its_cohorts_affiliations_in_the_readers_language(
    staff_client, scientist, make_service, language, shown
):
    from campusconf.provisioning.models import Campaign
    from campusconf.provisioning.verbs.campaign_enrolment import cohort_json

    cohort = cohort_json((), None, ["Faculty of Science"], ())
    campaign = Campaign.objects.create(service=make_service(), cohort=cohort)
    page = staff_client.get(
        f"/staff/campaigns/{campaign.pk}/", headers={"accept-language": language}
    )
    cohort_line = page.content.decode().split('id="cohort">')[1].split("</p>")[0]
    assert shown in cohort_line
