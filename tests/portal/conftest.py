import datetime
import email
import email.policy
import socket
import threading

import pytest
from aiosmtpd.controller import Controller

from campusconf.accounts.lifecycle import transition
from campusconf.accounts.models import Account
from campusconf.accounts.reasons import Reason
from campusconf.accounts.states import Cause, State


@pytest.fixture(scope="session", autouse=True)
def database_before_any_browser(django_db_setup):
    """Create the test database before a session-scoped browser starts its event loop,
    whichever test happens to run first."""


@pytest.fixture
def zoom_google_reported(account_in, make_service):
    """``zoom_google_reported(member)``: a Zoom account whose member said "I chose Sign in
    with Google" while Zoom still showed the invitation pending (S12)."""

    def make(member) -> Account:
        account = account_in(member, make_service(slug="zoom", vendor="zoom"), State.INVITED)
        transition(
            account, State.UNLICENSED, cause=Cause.MEMBER, reason=Reason.MEMBER_REPORTS_GOOGLE
        )
        return account

    return make


@pytest.fixture
def sent_long_ago(now):
    return {
        "invitation_sent_at": now - datetime.timedelta(hours=2),
        "invitation_expires_at": now + datetime.timedelta(days=14),
    }


@pytest.fixture
def signed_in(client, make_member):
    """A client signed in as a fresh faculty member, as the development sign-in does."""
    from campusconf.signin.members import sign_in_user

    member = make_member(language="en")
    client.force_login(
        sign_in_user(member.common_id),
        backend="campusconf.signin.backends.DevelopmentSessionBackend",
    )
    client.member = member
    return client


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.arrived = threading.Event()
        self.refuse: str | None = None  # a recipient this server answers "550" for

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address == self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def smtp(settings):
    """A real SMTP server on 127.0.0.1; its ``messages`` are what arrived."""
    mailbox = Mailbox()
    # aiosmtpd checks its own port after starting, so it needs a concrete one.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    yield mailbox
    controller.stop()
