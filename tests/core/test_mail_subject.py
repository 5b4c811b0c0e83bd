"""Japanese subjects arrive as written, with no leading space, through a real SMTP server."""

import pytest

from campusconf.core.mail import Mail

SUBJECTS = [
    "【東京大学】Webex の招待メールを送信しました：ご確認のうえ有効化してください",
    "【東京大学】短い件名",
    "[University of Tokyo] An ASCII subject long enough to be folded over two lines of it",
]


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_subject_arrives_exactly_as_written(subject, smtp_capture, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_capture.port
    before = smtp_capture.count()
    Mail(subject, "本文", "from@example.ac.jp", ["member@example.ac.jp"]).send()
    received = smtp_capture.wait_for("member@example.ac.jp", after=before)
    assert received["Subject"] == subject  # the header decoded as a mail program does
