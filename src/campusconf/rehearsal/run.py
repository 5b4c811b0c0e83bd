"""One rehearsal: the sandbox and the mailboxes started, the cohort registered, the
days played tick by tick on one clock, the measures taken."""

from __future__ import annotations

import contextlib
import datetime
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.test.utils import override_settings

from campusconf.accounts.models import Account
from campusconf.accounts.states import Cause, State
from campusconf.core import clock
from campusconf.members.models import Member
from campusconf.portal import notices
from campusconf.provisioning.engine import vendors
from campusconf.provisioning.verbs import actions, campaign_enrolment, google_sign_in
from campusconf.rehearsal import behaviour
from campusconf.rehearsal.cohort import CUTOFF, SimMember, draw_cohort, register
from campusconf.rehearsal.engine import Engine
from campusconf.rehearsal.mailboxes import Mailboxes, running_mailboxes
from campusconf.rehearsal.measures import Measures, measure_day, measure_end
from campusconf.rehearsal.mix import Mix
from campusconf.services.models import Service
from campusconf.signin.members import user_for
from vendor_sandbox.launcher import Sandbox, connector_settings, running_sandbox, vendor_env

log = logging.getLogger("campusconf.rehearsal")

# The sandbox's secrets go in variables of the rehearsal's own, apart from those a
# configured service reads.
SECRETS_PREFIX = "CAMPUSCONF_REHEARSAL"

# The notices CampusConf sends of its own accord; the manual process had none of them.
OWN_NOTICES = ("invitation_expiring", "invitation_expired", "wrong_activation", "held_elsewhere")
MAIL_WAIT_SECONDS = 20.0


@dataclass
class Options:
    members: int
    seed: int
    mix: Mix
    workdir: Path
    manual: bool = False


@dataclass
class Rehearsal:
    """The running rehearsal, as the members' behaviour sees it (behaviour.World)."""

    options: Options
    sandbox: Sandbox
    boxes: Mailboxes
    cohort: list[SimMember]
    events: dict[str, list[str]] = field(default_factory=dict)
    clients: dict[str, Client] = field(default_factory=dict)

    @property
    def sandbox_url(self) -> str:
        return self.sandbox.url

    @property
    def manual(self) -> bool:
        return self.options.manual

    @property
    def resend_limit(self) -> int:
        return self.options.mix.resends_before_inquiry

    def portal(self, sim: SimMember, fresh: bool = False) -> Client:
        """The member's browser on CampusConf, signed in (again, when ``fresh``)."""
        client = self.clients.get(sim.common_id)
        if client is None or fresh:
            client = Client()
            client.force_login(user_for(Member.objects.get(pk=sim.member_pk)))
            self.clients[sim.common_id] = client
        return client

    def activate_mailbox(self, sim: SimMember) -> None:
        for address in sim.addresses:
            self.boxes.activate(address)

    def staff_repair(self, sim: SimMember, slug: str, what: str) -> None:
        """The help desk carries out what the member asked for (manual process only)."""
        staff = User.objects.get_or_create(username="rehearsal-helpdesk")[0]
        member = Member.objects.get(pk=sim.member_pk)
        service = Service.objects.get(slug=slug)
        account = Account.objects.filter(member=member, service=service).first()
        try:
            if what == "apply":
                actions.apply_for_service(member, service, cause=Cause.STAFF, actor=staff)
            elif what == "google" and account is not None:
                google_sign_in.report_google_sign_in(account, actor=staff)
            elif what == "resend" and account is not None:
                actions.resend_invitation(account, cause=Cause.STAFF, actor=staff)
        except Exception as error:
            self.note(sim, f"help desk could not {what}: {error}")
            return
        self.note(sim, f"help desk did {what} for {slug}")

    def note(self, sim: SimMember, event: str) -> None:
        stamp = clock.now().strftime("%m-%d %H:%M")
        self.events.setdefault(sim.common_id, []).append(f"{stamp} {event}")


def rehearse(options: Options) -> Measures:
    """Run one rehearsal in this process's database, which must be empty of members."""
    for noisy in ("httpx", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    mix = options.mix
    cohort = draw_cohort(mix, options.members, options.seed)
    with contextlib.ExitStack() as stack:
        boxes = stack.enter_context(running_mailboxes())
        sandbox = stack.enter_context(
            running_sandbox(
                options.workdir,
                smtp_port=boxes.port,
                SANDBOX_FAULT_SEED=str(options.seed),
                # One process: the rehearsal's engine calls the vendor one request at a time.
                SANDBOX_WORKERS="1",
                SANDBOX_THREADS="8",
            )
        )
        stack.enter_context(_environment(sandbox, boxes))
        stack.enter_context(clock.installed())
        if options.manual:
            stack.enter_context(notices.withheld(*OWN_NOTICES))
        world = Rehearsal(options, sandbox, boxes, cohort)
        _set_up(world)
        return _play(world)


@contextlib.contextmanager
def _environment(sandbox: Sandbox, boxes: Mailboxes) -> Iterator[None]:
    saved = dict(os.environ)
    os.environ.update(vendor_env(sandbox.creds, SECRETS_PREFIX))
    engine_settings = {**settings.CAMPUSCONF_ENGINE, "RECONCILE_MINUTES": 30}
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=boxes.port,
        EMAIL_USE_TLS=False,
        EMAIL_HOST_USER="",
        EMAIL_HOST_PASSWORD="",
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        CAMPUSCONF_ENGINE=engine_settings,
    ):
        vendors.close_all()
        try:
            yield
        finally:
            vendors.close_all()
            os.environ.clear()
            os.environ.update(saved)


def _set_up(world: Rehearsal) -> None:
    creds = world.sandbox.creds
    for slug, name, days in (("zoom", "Zoom", 30), ("webex", "Webex", 15)):
        service = Service(
            slug=slug,
            vendor=slug,
            name_ja=name,
            name_en=name,
            plan_name="Pro" if slug == "zoom" else "Enterprise",
            seats=None,
            max_participants=300,
            end_to_end_encryption=True,
            invitation_validity_days=days,
            eligible_roles="faculty staff student",
            connector_settings=connector_settings(slug, creds, SECRETS_PREFIX),
        )
        service.full_clean()
        service.save()
    world.sandbox.set_faults(**world.options.mix.sandbox_faults())
    world.boxes.refusing_senders.add(parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower())
    register(world.cohort)
    for sim in world.cohort:
        for vendor in sim.personal_at:
            world.sandbox.seed_personal(vendor, sim.address)
        if sim.mailbox_inactive:
            world.boxes.inactive.update(sim.addresses)
        sim.next_look = clock.now() + sim.first_look_hours * behaviour.HOUR
    # Term starts: the Zoom campaign for the students on the roster at its cut-off.
    campaign_enrolment.create_campaign(
        Service.objects.get(slug="zoom"),
        campaign_enrolment.cohort_json(["student"], CUTOFF, (), ()),
        actor=None,  # the simulated term start, like the engine's own work: no entry
        reason="",
    )


def _play(world: Rehearsal) -> Measures:
    mix = world.options.mix
    tick = datetime.timedelta(minutes=mix.tick_minutes)
    per_day = int(datetime.timedelta(days=1) / tick)
    start, wall = clock.now(), time.monotonic()
    measures = Measures(start=start, members=len(world.cohort), manual=world.manual)
    by_address = {a: sim for sim in world.cohort for a in sim.addresses}
    engine = Engine()
    try:
        for n in range(1, mix.days * per_day + 1):
            clock.advance(tick.total_seconds())
            world.sandbox.move_clock(seconds=tick.total_seconds())
            engine.tick()
            _await_mail(world)
            now = clock.now()
            for address, message in world.boxes.take():
                sim = by_address.get(address)
                if sim is not None:
                    behaviour.receive(sim, message, now)
            for sim in world.cohort:
                behaviour.act(world, sim, now)
            measures.observe(world.cohort, now)
            if n % per_day == 0:
                measure_day(measures, world.cohort, n // per_day)
                log.info("rehearsal day %d: %s", n // per_day, measures.per_day[-1])
    finally:
        engine.close()
    measures.wall_seconds = time.monotonic() - wall
    measure_end(measures, world.cohort, world.events, world.sandbox, world.boxes)
    return measures


def _await_mail(world: Rehearsal) -> None:
    """Wait until the sandbox has handed its mails to SMTP (it sends from a thread),
    except to mailboxes that refuse them: it retries those for seconds, in vain."""
    deadline = time.monotonic() + MAIL_WAIT_SECONDS
    while time.monotonic() < deadline:
        queued = [m for m in world.sandbox.undelivered() if m["to"] not in world.boxes.inactive]
        if not queued:
            return
        time.sleep(0.05)
    log.warning("rehearsal: the sandbox still had mails to send after %ss", MAIL_WAIT_SECONDS)


__all__ = ["Options", "State", "rehearse"]
