"""Vendor mails: recorded in the sandbox DB, then delivered over SMTP by a thread.

The API call that causes a mail never waits for SMTP and never fails because of it: the
mail row commits with the user, and a per-process sender thread delivers it afterwards,
retrying a few times. The admin API lists mails from the DB, delivered or not.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import threading
import time
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid

from django.db import transaction
from django.template.loader import render_to_string

from vendor_sandbox import clock, sql
from vendor_sandbox.conf import CONFIG
from vendor_sandbox.models import Mail

log = logging.getLogger(__name__)
_queue: queue.Queue[int] = queue.Queue()
_started = False
_start_lock = threading.Lock()
RETRY_DELAYS = (0.5, 2.0, 5.0)


def send(
    vendor: str,
    kind: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, object],
    now: datetime | None = None,
) -> int:
    """Record a mail and queue it for delivery once the current transaction commits.

    ``context["links"]`` maps button labels to absolute URLs; the same mapping is kept on
    the row so tests and the admin page can follow links without parsing HTML.
    """
    mail_id = sql.insert("mail", row(vendor, kind, to, subject, template, context, now))
    if CONFIG.smtp_port:
        transaction.on_commit(lambda: enqueue(mail_id))
    return mail_id


def row(
    vendor: str,
    kind: str,
    to: str,
    subject: str,
    template: str,
    context: dict[str, object],
    now: datetime | None = None,
) -> dict[str, object]:
    """The mail's row as stored, for ``send`` and for the fast path's own connection."""
    ctx = {"org_name": CONFIG.org_name, "to": to, **context}
    status = "queued" if CONFIG.smtp_port else "recorded"
    links = dict(context.get("links", {}))  # type: ignore[call-overload]
    fields = {"vendor": vendor, "kind": kind, "to": to, "subject": subject, "template": template}
    return {
        **fields,
        "context": ctx,
        "links": links,
        "created_at": now or clock.now(),
        "status": status,
        "error": "",
    }


def enqueue(mail_id: int) -> None:
    """Hand a committed mail to the sender thread (started on first use)."""
    global _started
    with _start_lock:
        if not _started:
            _started = True
            threading.Thread(target=_worker, name="smtp-sender", daemon=True).start()
    _queue.put(mail_id)


def render(mail: Mail) -> tuple[str, str]:
    """Text and HTML of a mail. Rendering waits until delivery (or listing), because
    templating costs more than the rest of a create request."""
    name = f"vendor_sandbox/mail/{mail.template}"
    return (
        render_to_string(f"{name}.txt", mail.context),
        render_to_string(f"{name}.html", mail.context),
    )


def _message(mail: Mail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = CONFIG.mail_from_webex if mail.vendor == "webex" else CONFIG.mail_from_zoom
    msg["To"] = mail.to
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain=f"{mail.vendor}.sandbox.test")
    msg["X-Sandbox-Mail-Id"] = str(mail.pk)
    msg["X-Sandbox-Mail-Kind"] = mail.kind
    text, html = render(mail)
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    return msg


def _deliver(mail: Mail) -> None:
    with smtplib.SMTP(CONFIG.smtp_host, CONFIG.smtp_port, timeout=10) as smtp:
        smtp.send_message(_message(mail))


def _worker() -> None:
    while True:
        mail_id = _queue.get()
        mail = Mail.objects.filter(pk=mail_id).first()
        if mail is None:  # the sandbox was reset meanwhile
            continue
        error = ""
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            try:
                _deliver(mail)
                error = ""
                break
            except (OSError, smtplib.SMTPException) as exc:
                error = f"{type(exc).__name__}: {exc}"
        if error:
            log.warning("mail %s to %s not delivered: %s", mail.pk, mail.to, error)
        Mail.objects.filter(pk=mail.pk).update(status="failed" if error else "sent", error=error)
