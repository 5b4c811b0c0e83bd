"""What a simulated member does, from what they see: their mailbox and the portal's cards.

A member never reads CampusConf's database. They open the mails that reach their
mailbox (when their habit says), follow the vendor's links, and look at ``/my/``,
where each service's card carries its next step (``data-next-step``) and offers the
buttons a person would press. In a manual run (the university's process before
CampusConf), each repair the card offers is instead a mail to the help desk, which
staff carry out.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Protocol

from django.test import Client

from campusconf.rehearsal import vendor_pages
from campusconf.rehearsal.cohort import Pending, SimMember

HOUR = datetime.timedelta(hours=1)
# A card's opening tag; its body runs to the next card (a card holds sections of its
# own, such as Zoom's two possible mails, so its first "</section>" is not its end).
CARD = re.compile(
    r'<section class="service-card[^"]*" id="service-(?P<slug>[\w-]+)"[^>]*'
    r'data-next-step="(?P<kind>\w+)" data-can-resend="(?P<resend>yes|no)"'
    r'(?: data-mailbox="(?P<mailbox>\w+)")?[^>]*>',
    re.S,
)
VENDOR_OF_LABEL = {
    "Activate": "webex",
    "Review": "webex",
    "Reset Password": "webex",
    "Activate Zoom Account": "zoom",
    "Approve Request": "zoom",
    "Reset password": "zoom",
}


class World(Protocol):
    """What the behaviour needs of the running rehearsal."""

    @property
    def sandbox_url(self) -> str: ...
    @property
    def manual(self) -> bool: ...
    @property
    def resend_limit(self) -> int: ...

    def portal(self, sim: SimMember, fresh: bool = False) -> Client: ...
    def activate_mailbox(self, sim: SimMember) -> None: ...
    def staff_repair(self, sim: SimMember, slug: str, what: str) -> None: ...
    def note(self, sim: SimMember, event: str) -> None: ...


@dataclass
class Card:
    slug: str
    kind: str
    can_resend: bool
    mailbox_refused: bool
    body: str


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: dict[str, str] = {}
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._text = dict(attrs).get("href"), []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.found.setdefault("".join(self._text).strip(), self._href)
            self._href = None


def links(message: EmailMessage) -> dict[str, str]:
    part = message.get_body(preferencelist=("html",))
    if part is None:
        return {}
    parser = _Links()
    parser.feed(str(part.get_content()))
    return {label: href for label, href in parser.found.items() if label in VENDOR_OF_LABEL}


def receive(sim: SimMember, message: EmailMessage, now: datetime.datetime) -> None:
    """A mail reached the member's mailbox; when (or whether) they open it is theirs."""
    sim.mails_received += 1
    vendor_links = links(message)
    first_invitation = (
        bool(vendor_links)
        and not sim.opened_invitation
        and not any(links(p.message) for p in sim.inbox)
    )
    delay = sim.mail_delay(first_invitation)
    sim.inbox.append(Pending(message, now, None if delay is None else now + delay))


def act(world: World, sim: SimMember, now: datetime.datetime) -> None:
    if sim.mailbox_told_at and sim.mailbox_told_at <= now and sim.mailbox_inactive:
        sim.mailbox_inactive = False
        world.activate_mailbox(sim)
        world.note(sim, "activated the university mailbox after the help desk's answer")
        sim.resends.clear()
        sim.next_look = now
    for pending in [p for p in sim.inbox if p.open_at is not None and p.open_at <= now]:
        _open(world, sim, pending, now)
    if sim.change_at and sim.change_at <= now and not sim.changed_address:
        _change_address(world, sim, now)
    if sim.next_look and sim.next_look <= now:
        look(world, sim, now)


def _open(world: World, sim: SimMember, pending: Pending, now: datetime.datetime) -> None:
    sim.inbox.remove(pending)
    found = links(pending.message)
    if not found:
        # CampusConf's own notice: it points to the portal.
        sim.next_look = now
        return
    sim.opened_invitation = True
    label, url = next(iter(found.items()))
    outcome = _follow(world, sim, label, url)
    world.note(sim, f"followed “{label}”: {outcome}")
    if outcome == "no_user" and not getattr(pending, "retried", False):
        # "User does not exist" (S15): a person tries the same link again a little later.
        again = Pending(pending.message, pending.arrived, now + sim.rng.uniform(1, 3) * HOUR)
        again.retried = True  # type: ignore[attr-defined]
        sim.inbox.append(again)
    elif outcome != "done":
        sim.next_look = now


def _follow(world: World, sim: SimMember, label: str, url: str) -> str:
    base = world.sandbox_url
    if label == "Activate":
        return vendor_pages.webex_activate(url)
    if label == "Review":
        return vendor_pages.webex_convert(url, sim.address, base)
    if label in ("Reset Password", "Reset password"):
        return vendor_pages.webex_reset(url)
    if label == "Activate Zoom Account":
        google = sim.google_on_zoom and not sim.used_google
        sim.used_google = sim.used_google or google
        return vendor_pages.zoom_activate(url, google=google)
    return vendor_pages.zoom_join(url)


def _change_address(world: World, sim: SimMember, now: datetime.datetime) -> None:
    sim.changed_address = True
    new = sim.alias if sim.change_to_alias and sim.alias else f"{sim.common_id}@private.example"
    outcome = vendor_pages.webex_change_address(world.sandbox_url, sim.address, new)
    world.note(sim, f"changed the Webex address to {new}: {outcome}")
    sim.next_look = now + sim.rng.uniform(1, 3) * datetime.timedelta(days=1)


def cards(html: str) -> list[Card]:
    found = list(CARD.finditer(html))
    ends = [m.start() for m in found[1:]] + [len(html)]
    return [
        Card(
            m["slug"],
            m["kind"],
            m["resend"] == "yes",
            m["mailbox"] == "refused",
            html[m.end() : end],
        )
        for m, end in zip(found, ends, strict=True)
    ]


def look(world: World, sim: SimMember, now: datetime.datetime) -> None:
    """The member opens /my/ and does what each card asks."""
    client = world.portal(sim)
    page = client.get("/my/")
    if page.status_code == 302:
        # Days have passed since the last sign-in and the session ended: sign in again.
        client = world.portal(sim, fresh=True)
        page = client.get("/my/")
    shown = cards(page.content.decode())
    # The manual process had no such notice: there, only the help desk's answer tells.
    if not world.manual and sim.mailbox_inactive and any(c.mailbox_refused for c in shown):
        # The page says the mailbox refuses mail: only the member can activate it, and
        # the invitations it swallowed must be sent again.
        sim.mailbox_inactive = False
        world.activate_mailbox(sim)
        world.note(sim, "activated the university mailbox, as the portal asked")
        sim.resends.clear()
        sim.resend_after_mailbox = True
    seen = ", ".join(f"{c.slug} {c.kind}" for c in shown if c.slug in sim.services)
    world.note(sim, f"looked at the portal: {seen}")
    sim.next_look = None  # a card may ask the member to look again soon
    for card in shown:
        if card.slug not in sim.services:
            continue
        sim.told[card.slug] = card.kind
        _on_card(world, sim, client, card, now)
    sim.resend_after_mailbox = False
    if all(s in sim.active_at for s in sim.services):
        sim.next_look = None
        return
    again = now + sim.look_every_days * datetime.timedelta(days=1)
    sim.next_look = min(sim.next_look, again) if sim.next_look else again


def _on_card(
    world: World, sim: SimMember, client: Client, card: Card, now: datetime.datetime
) -> None:
    slug, kind = card.slug, card.kind
    if kind == "apply":
        if world.manual and sim.student:
            # Before CampusConf, a student the campaign missed could only write (S10).
            _helpdesk(world, sim, slug, "apply", "no invitation as a student (S10)")
        else:
            client.post(f"/my/services/{slug}/apply/")
            world.note(sim, f"applied for {slug}")
        sim.next_look = now + sim.rng.uniform(1, 2) * HOUR
    elif kind == "active":
        sim.active_at.setdefault(slug, now)
        if slug == "webex" and sim.changes_address and sim.change_at is None:
            sim.change_at = now + sim.rng.uniform(1, 4) * datetime.timedelta(days=1)
    elif kind in ("invited", "conversion_pending"):
        _on_invited(world, sim, client, card, now)
    elif kind == "invitation_expired":
        _resend(world, sim, client, card, "invitation expired (S4)")
    elif kind == "unlicensed":
        if not _resend(world, sim, client, card, "activated the wrong way (S9/S12)"):
            _inquire(world, sim, client, slug, "wrong_activation", now)
    elif kind in ("failed", "suspended"):
        _inquire(world, sim, client, slug, "other", now)


def _on_invited(
    world: World, sim: SimMember, client: Client, card: Card, now: datetime.datetime
) -> None:
    slug = card.slug
    if sim.resend_after_mailbox:
        _resend(world, sim, client, card, "the mailbox was not activated")
        return
    if slug == "zoom" and sim.used_google and not sim.reported_google:
        sim.reported_google = True
        if world.manual:
            _helpdesk(world, sim, slug, "google", "chose Sign in with Google (S12)")
        elif "/chose-google/" in card.body:
            client.post(f"/my/services/{slug}/chose-google/")
            world.note(sim, "told the portal: I chose Sign in with Google")
        else:
            world.note(sim, f"looked for “I chose Sign in with Google” on a {card.kind} card")
        return
    # The card says which mail to look for: the member looks now, whatever their habit.
    waiting = [p for p in sim.inbox if _vendor(p) == ("webex" if slug == "webex" else "zoom")]
    for pending in waiting:
        _open(world, sim, pending, now)
    if waiting:
        return
    if "topic=no_mail" in card.body and not _resend(world, sim, client, card, "no mail (S5)"):
        _inquire(world, sim, client, slug, "no_mail", now)


def _vendor(pending: Pending) -> str:
    found = links(pending.message)
    return VENDOR_OF_LABEL[next(iter(found))] if found else ""


def _resend(world: World, sim: SimMember, client: Client, card: Card, why: str) -> bool:
    """Press "send again" if the card allows it and the member has not given up."""
    count = sim.resends.get(card.slug, 0)
    if count >= world.resend_limit or not card.can_resend:
        return False
    sim.resends[card.slug] = count + 1
    if world.manual:
        _helpdesk(world, sim, card.slug, "resend", why)
    else:
        client.post(f"/my/services/{card.slug}/resend/")
        world.note(sim, f"pressed resend for {card.slug}: {why}")
    return True


def _inquire(
    world: World, sim: SimMember, client: Client, slug: str, topic: str, now: datetime.datetime
) -> None:
    key = f"{slug}:{topic}"
    if key in sim.inquiries:
        return
    sim.inquiries.append(key)
    if world.manual:
        _helpdesk(world, sim, slug, "", f"stuck: {topic}")
    else:
        client.post(
            "/my/inquiries/new/",
            {"service": slug, "topic": topic, "what_happened": f"Rehearsal: {topic}"},
        )
        world.note(sim, f"opened an inquiry about {slug}: {topic}")
    if topic == "no_mail" and sim.mailbox_inactive and sim.mailbox_told_at is None:
        # The help desk's answer, a day later: the seed pages' first step.
        sim.mailbox_told_at = now + datetime.timedelta(days=1)


def _helpdesk(world: World, sim: SimMember, slug: str, repair: str, why: str) -> None:
    sim.helpdesk_mails.append(why)
    if repair:
        world.staff_repair(sim, slug, repair)
