"""A member whose stored language overrides the browser's is told so, with the way out."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_stored_preference_that_wins_is_explained(signed_in):
    assert signed_in.member.preferred_language == "en"
    page = signed_in.get("/my/", HTTP_ACCEPT_LANGUAGE="ja,en;q=0.5").text
    assert '<html lang="en"' in page
    assert "the language saved for you in the university's records" in page
    assert '<button type="submit" name="language" value="ja" lang="ja">日本語で表示する' in page


def test_no_note_where_the_browser_agrees_or_sent_nothing_or_the_member_chose(signed_in):
    note = "the language saved for you"
    assert note not in signed_in.get("/my/", HTTP_ACCEPT_LANGUAGE="en").text
    assert note not in signed_in.get("/my/").text
    signed_in.cookies["django_language"] = "en"
    assert note not in signed_in.get("/my/", HTTP_ACCEPT_LANGUAGE="ja").text


def test_choosing_from_the_note_keeps_the_choice(signed_in):
    signed_in.post("/i18n/setlang/", {"language": "ja", "next": "/my/"})
    signed_in.member.refresh_from_db()
    assert signed_in.member.preferred_language == "ja"
    page = signed_in.get("/my/", HTTP_ACCEPT_LANGUAGE="ja").text
    assert '<html lang="ja"' in page and "大学の記録" not in page
