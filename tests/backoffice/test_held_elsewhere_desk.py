"""The back office shows an address held by an account elsewhere (Errata Z-d, W-f):
its own queue, the account page says what the member must do, the timeline and the
state filter of the API know the state, and Retry asks the vendor again."""

import pytest

from campusconf.accounts.reasons import Reason, Why, error_fields
from campusconf.accounts.states import Cause, State
from campusconf.backoffice import queries
from campusconf.provisioning.models import Job

pytestmark = pytest.mark.django_db

DETAIL = "The user x already holds an active account. [tracking T1]"
REASON = f"the address holds an account outside the university: {DETAIL}"


@pytest.fixture
def held(make_member, make_service, make_account):
    service = make_service(slug="zoom", vendor="zoom", name_en="Zoom")
    return make_account(
        make_member(),
        service,
        State.HELD_ELSEWHERE,
        reason=Why(Reason.HELD_ELSEWHERE, detail=DETAIL),
        last_error_code="1009",
        **error_fields(Why(Reason.HELD_ELSEWHERE, detail=DETAIL)),
    )


def test_the_queue_and_the_service_page_list_held_accounts(staff_client, held):
    queue = {q.key: q for q in queries.attention_queues(held.service)}["held_elsewhere"]
    assert queue.count == 1 and queue.rows == [held]
    page = staff_client.get(f"/staff/services/{held.service.slug}/").content.decode()
    assert "Address held by an account elsewhere (the member must release it)" in page
    assert held.member.common_id in page


@pytest.mark.parametrize(
    ("language", "text"), [("en", "What the member must do"), ("ja", "利用者が行うこと")]
)
def test_the_account_page_says_what_the_member_must_do(staff_client, held, language, text):
    staff_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    page = staff_client.get(f"/staff/accounts/{held.pk}/").content.decode()
    assert text in page and 'id="held-elsewhere"' in page
    # The vendor's words in the timeline and the last error, in the page's language.
    assert page.count(DETAIL) == 2
    assert (REASON in page) == (language == "en")
    assert f"/staff/accounts/{held.pk}/retry/" in page
    assert f"/staff/accounts/{held.pk}/resend/" not in page


def test_retry_asks_the_vendor_again(staff_user, held):
    from campusconf.backoffice.remedies import apply_remedy

    apply_remedy(held, "retry", actor=staff_user, reason="member released it by phone")
    held.refresh_from_db()
    assert held.state == State.REQUESTED
    assert Job.objects.filter(account=held, status=Job.Status.QUEUED).count() == 1
    moved = held.events.order_by("-pk").first()
    assert (moved.from_state, moved.cause) == (State.HELD_ELSEWHERE, Cause.STAFF)


def test_the_api_filters_by_the_state(client, staff_user, held):
    from campusconf.backoffice.tokens import issue_token

    token = issue_token(staff_user, "tests", reason="test suite")[1]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    body = client.get("/staff/api/v1/accounts", {"state": "held_elsewhere"}, **auth).json()
    assert [row["id"] for row in body["results"]] == [held.pk]
    assert body["results"][0]["state"] == "held_elsewhere"
