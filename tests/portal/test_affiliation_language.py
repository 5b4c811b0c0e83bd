"""The affiliation in the reader's language (issue #22): the inquiry text a member sends,
the inquiry pages, and the help desk's mail — Japanese where the directory gave a
Japanese name, English otherwise."""

import pytest
from django.utils import translation

from campusconf.members.models import Member, affiliation_label
from campusconf.portal.inquiries import open_inquiry, suggested_text
from campusconf.portal.inquiry_mail import NEW, _text
from campusconf.portal.models import Inquiry

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("english", "japanese", "language", "shown"),
    [
        ("Faculty of Science", "理学部", "ja", "理学部"),
        ("Faculty of Science", "理学部", "en", "Faculty of Science"),
        ("Faculty of Science", "", "ja", "Faculty of Science"),  # none known: English
        ("", "理学部", "en", "理学部"),  # better than nothing
        ("", "", "ja", ""),
    ],
)
def test_the_label_follows_the_readers_language_and_falls_back(english, japanese, language, shown):
    assert affiliation_label(english, japanese, language) == shown
    with translation.override(language):
        assert affiliation_label(english, japanese) == shown


def test_the_japanese_inquiry_text_names_the_affiliation_in_japanese(make_member, make_service):
    member = make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    service = make_service()
    with translation.override("ja"):
        first = suggested_text(member, service, "no_mail").splitlines()[0]
    assert first == "理学部の山田 太郎です。"
    with translation.override("en"):
        first = suggested_text(member, service, "no_mail").splitlines()[0]
    assert first == f"I am {member.display_name_latin} of Faculty of Science."


def test_without_a_japanese_name_the_japanese_text_keeps_the_english_one(make_member, make_service):
    member = make_member(affiliation="Faculty of Science")
    with translation.override("ja"):
        first = suggested_text(member, make_service(), "no_mail").splitlines()[0]
    assert first == "Faculty of Scienceの山田 太郎です。"


def test_the_inquiry_keeps_both_names_and_the_help_desk_reads_its_own(make_member, make_service):
    member = make_member(affiliation="Faculty of Science", affiliation_ja="理学部")
    inquiry = open_inquiry(member, make_service(), Inquiry.Topic.OTHER, "Help.")
    # A snapshot: what the member's affiliation was when they asked.
    member.affiliation_ja = "理学研究科"
    member.save()
    inquiry.refresh_from_db()
    assert (inquiry.affiliation, inquiry.affiliation_ja) == ("Faculty of Science", "理学部")
    _subject, japanese = _text(inquiry, NEW, "Help.", "ja")
    _subject, english = _text(inquiry, NEW, "Help.", "en")
    assert "（理学部）" in japanese and "Faculty of Science" not in japanese
    assert ", Faculty of Science" in english and "理学部" not in english


@pytest.mark.parametrize(
    ("language", "shown", "hidden"),
    [("ja", "理学部", "Faculty of Science"), ("en", "Faculty of Science", "理学部")],
)
def test_the_inquiry_pages_show_the_affiliation_in_the_members_language(
    signed_in, make_service, language, shown, hidden
):
    member = signed_in.member
    # The stored preference decides the language of /my/.
    Member.objects.filter(pk=member.pk).update(affiliation_ja="理学部", preferred_language=language)
    member.refresh_from_db()
    make_service()
    form = signed_in.get("/my/inquiries/new/", {"service": "webex", "topic": "no_mail"})
    assert form.status_code == 200, form
    page = form.content.decode()
    assert shown in page and hidden not in page
    inquiry = open_inquiry(member, None, Inquiry.Topic.OTHER, "Hello?")
    detail = signed_in.get(f"/my/inquiries/{inquiry.pk}/").content.decode()
    assert f"<dd>{shown}</dd>" in detail
