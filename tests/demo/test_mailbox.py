"""The demo's mailbox keeps members' mails only while it runs: Ctrl-C leaves nothing."""

import smtplib
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from django.conf import settings

from campusconf.core.processes import Supervisor
from campusconf.demo.management.commands.demo import mailbox
from vendor_sandbox.launcher import free_port

MAILDEV = Path(settings.BASE_DIR) / "node_modules" / ".bin" / "maildev"


def wait_for(predicate, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def send(port: int) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.jp", "b@example.jp", "hi"
    message.set_content("a member's mail")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
        smtp.send_message(message)


@pytest.mark.skipif(not MAILDEV.exists(), reason="maildev not installed (make test runs npm ci)")
def test_mails_live_in_var_while_it_runs_and_are_gone_after(tmp_path):
    stale = tmp_path / "mailbox-left-by-a-hard-kill"
    stale.mkdir()
    smtp_port = free_port()
    with mailbox(tmp_path, smtp_port=smtp_port, web_port=free_port()) as child:
        assert not stale.exists()
        [folder] = list(tmp_path.glob("mailbox-*"))
        supervisor = Supervisor([child], grace_seconds=5)
        supervisor.start()
        try:

            def accepts() -> bool:
                try:
                    send(smtp_port)
                except OSError:
                    return False
                return True

            wait_for(accepts, "maildev's SMTP port")
            wait_for(lambda: any(folder.glob("*.eml")), "the mail on disk")
        finally:
            supervisor.stop()
        maildev_pid = child.process.pid if child.process else 0
    assert list(tmp_path.iterdir()) == []
    # maildev's own default folder was never used.
    assert not (Path(tempfile.gettempdir()) / f"maildev-{maildev_pid}").exists()
