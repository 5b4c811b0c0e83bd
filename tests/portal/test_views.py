import pytest
from django.test import Client
from django.urls import reverse

from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import State
from campusconf.portal.models import Inquiry

pytestmark = pytest.mark.django_db


def test_my_services_needs_a_signed_in_member(client):
    response = client.get("/my/")
    assert response.status_code == 302
    assert response["Location"] == "/signin/?next=%2Fmy%2F"


def test_staff_without_a_member_record_is_not_a_member(client, django_user_model):
    staff = django_user_model.objects.create_user("admin", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/my/").status_code == 302


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("language", ["en", "ja"])
def test_my_services_draws_every_state(
    signed_in, make_service, account_in, state, language, sent_long_ago
):
    service = make_service(valid_until="2027-03-31")
    account_in(signed_in.member, service, state, **sent_long_ago)
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/")
    assert page.status_code == 200
    assert f'id="service-{service.slug}"' in page.text
    assert "2027-03-31" in page.text  # the licence terms


def test_apply_is_a_post_with_csrf_and_calls_the_engine(make_member, make_service):
    from campusconf.signin.members import sign_in_user

    service = make_service()
    member = make_member(language="en")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(
        sign_in_user(member.common_id),
        backend="campusconf.signin.backends.DevelopmentSessionBackend",
    )
    url = reverse("portal:apply", args=[service.slug])
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403  # no CSRF token
    assert not Account.objects.filter(member=member).exists()
    page = browser.get("/my/")
    token = page.cookies["csrftoken"].value
    response = browser.post(url, {"csrfmiddlewaretoken": token})
    assert response.status_code == 302
    account = Account.objects.get(member=member, service=service)
    assert account.state == State.REQUESTED
    again = browser.get("/my/", headers={"accept-language": "en"})
    assert "We received your application" in again.text
    assert "being created" in again.text


def test_apply_when_not_eligible_changes_nothing(signed_in, make_service):
    service = make_service(eligible_roles="student")
    response = signed_in.post(
        reverse("portal:apply", args=[service.slug]), follow=True, headers={"accept-language": "en"}
    )
    assert "offered to" in response.text
    assert not Account.objects.filter(member=signed_in.member).exists()


def test_apply_twice_tells_the_member(signed_in, make_service):
    service = make_service()
    url = reverse("portal:apply", args=[service.slug])
    signed_in.post(url)
    response = signed_in.post(url, follow=True, headers={"accept-language": "en"})
    assert "already have an account" in response.text
    assert Account.objects.filter(member=signed_in.member).count() == 1


def test_resend_after_expiry_and_its_limit(signed_in, make_service, account_in):
    service = make_service()
    account = account_in(signed_in.member, service, State.INVITATION_EXPIRED)
    url = reverse("portal:resend", args=[service.slug])
    first = signed_in.post(url, follow=True, headers={"accept-language": "en"})
    assert "is on its way" in first.text
    account.refresh_from_db()
    assert account.state == State.REQUESTED


def test_resend_refused_while_limited_is_explained(signed_in, make_service, account_in):
    service = make_service()
    account_in(signed_in.member, service, State.INVITATION_EXPIRED)
    url = reverse("portal:resend", args=[service.slug])
    signed_in.post(url)
    # The engine moved it back to requested; pretend the vendor re-invited it at once.
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    account = Account.objects.get(member=signed_in.member)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    page = signed_in.get("/my/", headers={"accept-language": "en"})
    assert "once every 10 minutes" in page.text
    second = signed_in.post(url, follow=True, headers={"accept-language": "en"})
    assert "wait 10 minutes" in second.text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_i_chose_sign_in_with_google_starts_the_repair_in_one_click(
    signed_in, make_service, account_in, language
):
    from campusconf.provisioning.models import Job

    service = make_service(slug="zoom", vendor="zoom")
    account = account_in(signed_in.member, service, State.INVITED)
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/").text
    label = (
        "「Googleでサインイン」を選んだ" if language == "ja" else "I chose “Sign in with Google”"
    )
    assert label in page
    answer = signed_in.post(reverse("portal:chose_google", args=["zoom"]), follow=True)
    account.refresh_from_db()
    assert account.state == State.REQUESTED
    assert Job.objects.get(account=account).kind == Job.Kind.REINVITE
    assert ("Approve Request" in answer.text) and (label not in answer.text)


def test_i_chose_sign_in_with_google_is_a_csrf_protected_post(make_member, make_service):
    from django.test import Client

    from campusconf.accounts.lifecycle import open_account, transition
    from campusconf.accounts.states import Cause
    from campusconf.signin.members import sign_in_user

    member = make_member()
    account = open_account(member, make_service(slug="zoom", vendor="zoom"), cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(
        sign_in_user(member.common_id), backend="django.contrib.auth.backends.ModelBackend"
    )
    url = reverse("portal:chose_google", args=["zoom"])
    assert browser.get(url).status_code == 405
    assert browser.post(url).status_code == 403
    account.refresh_from_db()
    assert account.state == State.INVITED


def test_i_chose_sign_in_with_google_on_another_card_changes_nothing(
    signed_in, make_service, account_in
):
    zoom, webex = make_service(slug="zoom", vendor="zoom"), make_service()
    active = account_in(signed_in.member, zoom, State.ACTIVE)
    other = account_in(signed_in.member, webex, State.INVITED)
    for slug in ("zoom", "webex"):
        answer = signed_in.post(
            reverse("portal:chose_google", args=[slug]),
            follow=True,
            headers={"accept-language": "en"},
        )
        assert "changed meanwhile" in answer.text
    active.refresh_from_db()
    other.refresh_from_db()
    assert (active.state, other.state) == (State.ACTIVE, State.INVITED)


def test_i_chose_sign_in_with_google_within_the_resend_limit_is_noted(
    signed_in, make_service, account_in
):
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    service = make_service(slug="zoom", vendor="zoom")
    account = account_in(signed_in.member, service, State.INVITED)
    transition(account, State.REQUESTED, cause=Cause.MEMBER, reason="resend")
    transition(account, State.INVITED, cause=Cause.ENGINE)
    answer = signed_in.post(
        reverse("portal:chose_google", args=["zoom"]),
        follow=True,
        headers={"accept-language": "en"},
    )
    account.refresh_from_db()
    assert account.state == State.UNLICENSED
    assert "we have noted it" in answer.text and "wait 10 minutes" in answer.text


@pytest.mark.parametrize(
    ("language", "words"),
    [("en", "Give my account the licence"), ("ja", "アカウントにライセンスを付ける")],
)
def test_a_zoom_user_active_without_the_licence_is_offered_the_licence(
    signed_in, make_service, account_in, language, words
):
    service = make_service(slug="zoom", vendor="zoom")
    account_in(
        signed_in.member,
        service,
        State.UNLICENSED,
        observed_state="active",
        observed_licensed=False,
        observed_login_type="google",
    )
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/").text
    card = page[page.index('id="service-zoom"') :]
    assert words in card and "Approve Request" not in card


def test_i_got_no_mail_opens_a_prefilled_inquiry(
    signed_in, make_service, account_in, sent_long_ago
):
    service = make_service()
    account_in(signed_in.member, service, State.INVITED, **sent_long_ago)
    page = signed_in.get("/my/", headers={"accept-language": "en"})
    assert "I got no mail" in page.text
    form = signed_in.get(
        "/my/inquiries/new/",
        {"service": service.slug, "topic": "no_mail"},
        headers={"accept-language": "en"},
    )
    assert signed_in.member.common_id in form.text
    assert "has not arrived" in form.text
    text = form.context["form"].initial["what_happened"]
    response = signed_in.post(
        "/my/inquiries/new/", {"service": service.slug, "topic": "no_mail", "what_happened": text}
    )
    inquiry = Inquiry.objects.get(member=signed_in.member)
    assert response["Location"] == f"/my/inquiries/{inquiry.pk}/"
    assert inquiry.account_state == State.INVITED
    assert inquiry.common_id == signed_in.member.common_id
    assert inquiry.affiliation == signed_in.member.affiliation
    assert inquiry.account_facts["invitation_sent_at"]
    listing = signed_in.get("/my/inquiries/", headers={"accept-language": "en"})
    assert "I got no invitation mail" in listing.text
    # The state travels as a code and is shown in the reader's language.
    signed_in.member.preferred_language = "ja"
    signed_in.member.save(update_fields=["preferred_language"])
    detail = signed_in.get(f"/my/inquiries/{inquiry.pk}/", headers={"accept-language": "ja"})
    assert "<dd>招待済み</dd>" in detail.text


def test_the_member_reads_staff_replies(signed_in, make_service):
    from campusconf.portal.inquiries import open_inquiry

    inquiry = open_inquiry(signed_in.member, make_service(), "other", "Help")
    inquiry.replies.create(body="We resent the mail.", from_staff=True)
    page = signed_in.get(f"/my/inquiries/{inquiry.pk}/", headers={"accept-language": "en"})
    assert "We resent the mail." in page.text and "The help desk" in page.text


def test_an_empty_inquiry_is_refused_with_a_message(signed_in):
    response = signed_in.post(
        "/my/inquiries/new/",
        {"topic": "other", "what_happened": ""},
        headers={"accept-language": "en"},
    )
    assert response.status_code == 200 and "This field is required" in response.text
    assert not Inquiry.objects.exists()


@pytest.mark.parametrize("slug", ["webex", "zoom"])
@pytest.mark.parametrize("language", ["en", "ja"])
def test_help_pages_exist_in_both_languages(client, make_service, settings, slug, language):
    settings.CAMPUSCONF_UNIVERSITY_NAME = "Trial University"
    make_service(slug=slug, vendor=slug)
    page = client.get(f"/help/{slug}/", headers={"accept-language": language})
    assert page.status_code == 200
    assert f'lang="{language}"' in page.text
    # A template variable written with single braces is printed as it is.
    assert "{ university_name }" not in page.text
    if slug == "zoom":
        assert "Trial University invited you to join their Zoom account" in page.text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_zoom_card_after_the_s13_resend_describes_the_join_request(
    signed_in, make_service, account_in, language
):
    from campusconf.accounts.lifecycle import transition
    from campusconf.accounts.states import Cause

    service = make_service(slug="zoom", vendor="zoom")
    account = account_in(signed_in.member, service, State.INVITED)
    transition(account, State.UNLICENSED, cause=Cause.RECONCILE, reason=Reason.GOOGLE_SIGN_IN)
    transition(account, State.REQUESTED, cause=Cause.MEMBER)
    transition(account, State.INVITED, cause=Cause.ENGINE)
    signed_in.cookies["django_language"] = language
    page = signed_in.get("/my/").text
    card = page[page.index('id="service-zoom"') :]
    assert "Approve Request" in card and "Confirm and Switch" in card
    assert "invited you to join their Zoom account" in card
    # The mail to look for is the join request; the activation mail only as the fallback
    # (a Google sign-in with another address made no personal account at this one).
    start = card.index('class="mail-facts"')
    facts = card[start : card.index("</dl>", start)]
    assert "join their Zoom account" in facts and "Activate Zoom Account" not in facts
    assert card.count("Sign up with password") == 1
    assert "Googleでサインイン" not in card and "I chose" not in card


def test_the_page_names_the_member_in_the_pages_language(signed_in):
    signed_in.cookies["django_language"] = "ja"
    assert "山田 太郎（共通ID" in signed_in.get("/my/").text
    signed_in.cookies["django_language"] = "en"
    assert f"Signed in as {signed_in.member.display_name_latin} (" in signed_in.get("/my/").text
