"""The simulated members: who they are and how each behaves, drawn from the run's seed."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, field
from email.message import EmailMessage

from campusconf.members.actions import register_member
from campusconf.members.models import Member
from campusconf.rehearsal.mix import Mix

MAIL_DOMAIN = "g.ecc.example.ac.jp"
# The Zoom campaign invites students whose university account existed on this day.
CUTOFF = datetime.date(2026, 3, 24)
FIRST_COMMON_ID = 4100000000


@dataclass
class Pending:
    """A mail in a member's mailbox, and when the member will open it."""

    message: EmailMessage
    arrived: datetime.datetime
    open_at: datetime.datetime | None  # None: left unopened (a never-opened first mail)


@dataclass
class SimMember:
    index: int
    common_id: str
    address: str
    alias: str
    student: bool
    after_cutoff: bool
    services: tuple[str, ...]
    first_look_hours: float
    mail_habit: str  # hours | days | never_first
    google_on_zoom: bool
    personal_at: tuple[str, ...]
    changes_address: bool
    change_to_alias: bool
    mailbox_inactive: bool
    look_every_days: float
    rng: random.Random
    # What happened to them, filled in as the rehearsal runs.
    member_pk: int = 0
    inbox: list[Pending] = field(default_factory=list)
    opened_invitation: bool = False
    next_look: datetime.datetime | None = None
    used_google: bool = False
    reported_google: bool = False
    changed_address: bool = False
    change_at: datetime.datetime | None = None
    webex_password: str = ""
    resends: dict[str, int] = field(default_factory=dict)
    inquiries: list[str] = field(default_factory=list)
    helpdesk_mails: list[str] = field(default_factory=list)
    told: dict[str, str] = field(default_factory=dict)  # service → last card kind seen
    active_at: dict[str, datetime.datetime] = field(default_factory=dict)
    mails_received: int = 0
    mailbox_told_at: datetime.datetime | None = None
    resend_after_mailbox: bool = False

    @property
    def addresses(self) -> set[str]:
        return {self.address, self.alias} - {""}

    def mail_delay(self, first_invitation: bool) -> datetime.timedelta | None:
        if self.mail_habit == "never_first" and first_invitation:
            return None
        if self.mail_habit == "days":
            return datetime.timedelta(days=self.rng.uniform(*self._days))
        return datetime.timedelta(hours=self.rng.uniform(*self._hours))

    _hours: tuple[float, float] = (0.2, 8.0)
    _days: tuple[float, float] = (1.0, 6.0)


def draw_cohort(mix: Mix, size: int, seed: int) -> list[SimMember]:
    source = random.Random(f"rehearsal:{seed}")
    cohort = []
    for i in range(size):
        rng = random.Random(source.getrandbits(64))
        common_id = f"{FIRST_COMMON_ID + i:010d}"
        student = rng.random() < mix.student_share
        after_cutoff = student and rng.random() < mix.student_after_cutoff_share / max(
            mix.student_share, 1e-9
        )
        if student:
            services: tuple[str, ...] = ("zoom",)
        elif rng.random() < mix.zoom_only_share:
            services = ("zoom",)
        else:
            services = ("zoom", "webex")
        habit_draw = rng.random()
        habit = (
            "hours"
            if habit_draw < mix.within_hours_share
            else "days"
            if habit_draw < mix.within_hours_share + mix.days_later_share
            else "never_first"
        )
        personal: tuple[str, ...] = ()
        if rng.random() < mix.personal_account_share:
            personal = rng.choice([("zoom",), ("webex",), ("zoom", "webex")])
            personal = tuple(v for v in personal if v in services) or services[:1]
        alias = f"t{common_id[-6:]}.alias@{MAIL_DOMAIN}" if rng.random() < mix.alias_share else ""
        member = SimMember(
            index=i,
            common_id=common_id,
            address=f"{common_id}@{MAIL_DOMAIN}",
            alias=alias,
            student=student,
            after_cutoff=after_cutoff,
            services=services,
            # Students invited by the campaign look when its mail comes; everyone else
            # looks at the portal within the first days of term.
            first_look_hours=rng.uniform(0.5, 72.0),
            mail_habit=habit,
            google_on_zoom=rng.random() < mix.zoom_google_share,
            personal_at=personal,
            changes_address="webex" in services and rng.random() < mix.change_address_share,
            change_to_alias=rng.random() < mix.change_to_alias_share,
            mailbox_inactive=rng.random() < mix.not_activated_share,
            look_every_days=rng.uniform(*mix.look_every_days),
            rng=rng,
        )
        member._hours, member._days = mix.within_hours, mix.days_later
        cohort.append(member)
    return cohort


def register(cohort: list[SimMember]) -> None:
    """The members as the university's directory has them (the campaign reads these)."""
    for sim in cohort:
        if sim.student:
            shift = 10 + sim.index % 20 if sim.after_cutoff else -(200 + sim.index % 300)
            created = CUTOFF + datetime.timedelta(days=shift)
        else:
            created = datetime.date(2015, 4, 1) + datetime.timedelta(days=sim.index % 3000)
        member: Member = register_member(
            common_id=sim.common_id,
            family_name_latin="Rehearsal",
            given_name_latin=f"Member{sim.index}",
            family_name_ja="練習",
            given_name_ja=f"会員{sim.index}",
            roles=["student"] if sim.student else ["faculty"],
            university_account_created_on=created,
            mail_address=sim.address,
            aliases=(sim.alias,) if sim.alias else (),
            affiliation="Faculty of Science",
            preferred_language="en" if sim.index % 3 else "ja",
        )
        sim.member_pk = member.pk
