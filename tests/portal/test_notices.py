"""Mail notices go over real SMTP, in the member's language, as text and HTML."""

import datetime

import pytest
from django.utils import timezone

from campusconf.accounts.models import AccountEvent
from campusconf.accounts.states import Cause, State
from campusconf.portal import notices

pytestmark = pytest.mark.django_db


def parts(message):
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


@pytest.mark.parametrize("kind", list(notices.KINDS))
def test_every_notice_in_english_over_smtp(smtp, make_member, make_service, account_in, kind):
    member = make_member(language="en")
    service = make_service(valid_until=datetime.date(2027, 3, 31))
    account = account_in(
        member,
        service,
        State.INVITED,
        invitation_expires_at=timezone.now() + datetime.timedelta(days=3),
    )
    assert notices.send_notice(kind, account) == 1
    assert smtp.arrived.wait(5)
    message = smtp.messages[0]
    assert message["To"] == member.mail_address
    text, html = parts(message)
    assert "Dear Taro" in text and "Dear Taro" in html
    assert "/my/" in text and 'href="http://127.0.0.1:8000/my/"' in html
    assert message["Subject"].isascii()


def test_notices_speak_japanese_to_a_japanese_speaker(smtp, make_member, make_service, account_in):
    member = make_member(language="ja")
    account = account_in(member, make_service(slug="zoom", vendor="zoom"), State.UNLICENSED)
    notices.wrong_activation(account)
    assert smtp.arrived.wait(5)
    message = smtp.messages[0]
    text, html = parts(message)
    assert "山田 太郎 様" in text
    assert "大学のライセンス" in message["Subject"]
    assert message["Subject"].startswith("[")  # no leading space (campusconf.core.mail)
    assert "Sign up with password" in text and member.mail_address in text
    assert 'lang="ja"' in html


def test_invitation_notice_names_the_vendor_mail(smtp, make_member, make_service, account_in):
    member = make_member(language="en")
    account = account_in(member, make_service(), State.INVITED)
    notices.invitation_sent(account)
    assert smtp.arrived.wait(5)
    text, _html = parts(smtp.messages[0])
    assert "Cisco Webex" in text and "has invited you to Cisco Webex" in text
    assert f"Cisco Webex has sent a mail to {member.mail_address}" in text
    # S7: the conversion request is named beside it; Zoom's join request is not.
    assert "“Convert to Enterprise Account”" in text and "“Review”" in text
    assert "Approve Request" not in text


def test_the_zoom_invitation_notice_also_names_the_join_request(
    smtp, make_member, make_service, account_in
):
    # A member who already has a Zoom account gets Zoom's join request instead (S7).
    member = make_member(language="ja")
    account = account_in(member, make_service(slug="zoom", vendor="zoom"), State.INVITED)
    notices.invitation_sent(account)
    assert smtp.arrived.wait(5)
    text, _html = parts(smtp.messages[0])
    flat = "".join(text.split())
    assert "Activate Zoom Account" in text and "「ApproveRequest」" in flat
    assert "送信しました" in flat


def test_html_escapes_what_it_quotes(smtp, make_member, make_service, account_in):
    member = make_member(language="en")
    service = make_service(name_en="<b>Webex</b>")
    account = account_in(member, service, State.INVITATION_EXPIRED)
    notices.invitation_expired(account)
    assert smtp.arrived.wait(5)
    _text, html = parts(smtp.messages[0])
    assert "<b>Webex</b>" not in html and "&lt;b&gt;Webex&lt;/b&gt;" in html


def test_queue_notices_writes_a_batch_once_per_occasion(make_member, make_service, account_in):
    from campusconf.portal.models import Notice

    one = account_in(make_member(), make_service(), State.ACTIVE)
    two = account_in(make_member(), make_service(slug="zoom", vendor="zoom"), State.ACTIVE)
    due = [("licence_ending", one.pk, "2027-03-31"), ("licence_ending", two.pk, "2027-03-31")]
    notices.queue_notices(due)
    notices.queue_notices([*due, ("licence_ending", one.pk, "2028-03-31")])  # one new occasion
    rows = Notice.objects.filter(kind="licence_ending").order_by("account_id", "key")
    assert [(n.account_id, n.key, n.status) for n in rows] == [
        (one.pk, "2027-03-31", Notice.Status.PENDING),
        (one.pk, "2028-03-31", Notice.Status.PENDING),
        (two.pk, "2027-03-31", Notice.Status.PENDING),
    ]
    with notices.withheld("licence_ending"):
        notices.queue_notices([("licence_ending", two.pk, "2029-03-31")])
    assert Notice.objects.filter(kind="licence_ending").count() == 3
    with pytest.raises(ValueError, match="unknown notice kind licence_end"):
        notices.queue_notices([("licence_end", one.pk, "")])


def test_a_batch_of_transitions_queues_what_one_by_one_would(make_member, make_service, account_in):
    # The engine's batch settle sends accounts_transitioned once for its events.
    from django.db import transaction

    from campusconf.accounts.lifecycle import accounts_transitioned
    from campusconf.accounts.models import Account
    from campusconf.portal.models import Notice

    service = make_service()
    invited = account_in(make_member(), service, State.REQUESTED)
    expiry = timezone.now() + datetime.timedelta(days=-1)
    expired = account_in(make_member(), service, State.INVITED, invitation_expires_at=expiry)
    moves = [
        (invited, State.REQUESTED, State.INVITED),
        (expired, State.INVITED, State.INVITATION_EXPIRED),
    ]
    with transaction.atomic():
        events = AccountEvent.objects.bulk_create(
            AccountEvent(account_id=a.pk, from_state=f, to_state=t, cause=Cause.ENGINE)
            for a, f, t in moves
        )
        for account, _, target in moves:
            Account.objects.filter(pk=account.pk).update(state=target)
        accounts_transitioned.send(sender=Account, events=events)
    assert Notice.objects.get(account=invited, kind="invitation_sent").key == str(events[0].pk)
    assert Notice.objects.get(account=expired, kind="invitation_expired").key == (
        expiry.isoformat(timespec="seconds")
    )


def test_the_zoom_invitation_notice_says_how_to_report_a_google_sign_in(
    smtp, make_member, make_service, account_in
):
    # Zoom's API cannot show the S12 mistake: the mail tells the member where to say it.
    member = make_member(language="en")
    account = account_in(member, make_service(slug="zoom", vendor="zoom"), State.INVITED)
    notices.invitation_sent(account)
    assert smtp.arrived.wait(5)
    text = " ".join(parts(smtp.messages[0])[0].split())
    assert "If you chose “Sign in with Google” by mistake, tell us with the button" in text


def test_the_members_own_report_queues_no_mail_saying_it_back(make_member, zoom_google_reported):
    from campusconf.portal.models import Notice

    account = zoom_google_reported(make_member())
    assert not Notice.objects.filter(account=account, kind="wrong_activation").exists()


@pytest.mark.parametrize(
    ("vendor", "language", "says"),
    [
        ("zoom", "ja", ["別の Zoom アカウント", "「完了したのでもう一度依頼する」"]),
        ("webex", "en", ["a free Webex account already uses it", "Done: ask the vendor again"]),
    ],
)
def test_an_address_held_elsewhere_is_told_once_with_the_step(
    smtp, make_member, make_service, account_in, vendor, language, says
):
    # The invitation the member waits for will not come until they act (Z-d, W-f).
    from campusconf.portal import outbox

    member = make_member(language=language)
    account = account_in(member, make_service(slug=vendor, vendor=vendor), State.HELD_ELSEWHERE)
    queued = list(account.notices.values_list("kind", flat=True))
    assert queued.count("held_elsewhere") == 1
    assert outbox.send_due() >= 1
    assert smtp.arrived.wait(5)
    held = [m for m in smtp.messages if member.mail_address in m["To"]][-1]
    text, _html = parts(held)
    flat = "".join(text.split())
    assert member.mail_address in text
    for words in says:
        assert "".join(words.split()) in flat
