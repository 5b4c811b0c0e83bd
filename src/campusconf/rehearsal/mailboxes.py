"""The members' university mailboxes: an in-process SMTP server (aiosmtpd).

Both CampusConf and the sandbox send here over SMTP. A mailbox that is not activated
refuses its mail (550), as the university's mail server does; the refusal is counted.
CampusConf, which sends through the university's own server, hears the refusal; a
vendor's mail is lost without a word to anyone.
"""

from __future__ import annotations

import contextlib
import threading
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from vendor_sandbox.launcher import free_port


@dataclass
class Mailboxes:
    port: int = 0
    inactive: set[str] = field(default_factory=set)
    # Senders told of a refusal (CampusConf's own address); see _Handler.handle_RCPT.
    refusing_senders: set[str] = field(default_factory=set)
    arrived: list[tuple[str, EmailMessage]] = field(default_factory=list)
    refused: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> list[tuple[str, EmailMessage]]:
        """Every mail that arrived since the last call, with its recipient."""
        with self.lock:
            taken, self.arrived = self.arrived, []
        return taken

    def activate(self, address: str) -> None:
        with self.lock:
            self.inactive.discard(address.lower())


class _Handler:
    def __init__(self, boxes: Mailboxes) -> None:
        self.boxes = boxes

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        with self.boxes.lock:
            if address.lower() in self.boxes.inactive:
                self.boxes.refused[address.lower()] += 1
                if envelope.mail_from.lower() in self.boxes.refusing_senders:
                    return "550 5.2.1 Mailbox not activated"
                # A vendor's mail bounces the same way, but the vendor never tells the
                # university; swallowed here (handle_DATA keeps it from the mailbox), so
                # the sandbox does not retry it for seconds.
                envelope.rcpt_tos.append(address)
                return "250 OK"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.boxes.lock:
            for rcpt in envelope.rcpt_tos:
                if rcpt.lower() not in self.boxes.inactive:
                    self.boxes.arrived.append((rcpt.lower(), message))
        return "250 OK"


@contextlib.contextmanager
def running_mailboxes() -> Iterator[Mailboxes]:
    boxes = Mailboxes(port=free_port())
    controller = Controller(_Handler(boxes), hostname="127.0.0.1", port=boxes.port)
    controller.start()
    try:
        yield boxes
    finally:
        controller.stop()
