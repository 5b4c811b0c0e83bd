"""Mail as CampusConf sends it: Japanese subjects that read right in every mail program.

Django encodes a non-ASCII subject without knowing the header's name, so the line it
folds is as long as a whole line; the generator then folds it again after "Subject:",
and a reader that decodes the header keeps that fold as a leading space
(" 【大学】…"). Encoding with the header's name leaves room for it: one fold less.
"""

from __future__ import annotations

from email.header import Header
from typing import Any

from django.core.mail import EmailMultiAlternatives


class Mail(EmailMultiAlternatives):
    """An EmailMultiAlternatives whose subject is encoded for its own header line."""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        msg = super().message(*args, **kwargs)
        subject = str(self.subject)  # a lazy translation is allowed here
        if not subject.isascii():
            encoded = Header(subject, self.encoding or "utf-8", header_name="Subject")
            msg.replace_header("Subject", encoded.encode())
        return msg
