"""What a rehearsal measures, from CampusConf's records, the sandbox and the members."""

from __future__ import annotations

import datetime
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Sum

from campusconf.accounts.models import Account, AccountEvent
from campusconf.accounts.states import State
from campusconf.portal.models import Inquiry
from campusconf.provisioning.models import VendorCallCount
from campusconf.rehearsal.cohort import SimMember
from campusconf.rehearsal.mailboxes import Mailboxes
from vendor_sandbox.launcher import Sandbox

# Zoom Pro's daily cap on creates (docs/vendors.md, Z-e); Webex has no daily cap.
ZOOM_DAILY_CREATES = 1500


@dataclass
class Stuck:
    """A member not active at the end: where each service stands and what they were told."""

    common_id: str
    services: dict[str, str]
    reason: str
    told: str
    history: list[str]


@dataclass
class Measures:
    start: datetime.datetime
    members: int
    manual: bool
    wall_seconds: float = 0.0
    per_day: list[dict[str, Any]] = field(default_factory=list)
    active_after_hours: dict[str, float] = field(default_factory=dict)
    stuck: list[Stuck] = field(default_factory=list)
    inquiries: dict[str, int] = field(default_factory=dict)
    helpdesk_mails: dict[str, int] = field(default_factory=dict)
    mails: dict[str, float] = field(default_factory=dict)
    vendor_calls: dict[str, float] = field(default_factory=dict)

    @property
    def active_share(self) -> float:
        """Active at the end: every service the member wanted (a member active once, whose
        account was lost later — a changed address, S9 — is not)."""
        done = len(self.active_after_hours) - len(self._lost())
        return done / self.members if self.members else 0.0

    def _lost(self) -> set[str]:
        return {s.common_id for s in self.stuck} & set(self.active_after_hours)

    @property
    def staff_actions(self) -> int:
        return sum(self.inquiries.values()) + sum(self.helpdesk_mails.values())

    def active_by_day(self, day: int) -> float:
        """Active by then and still active at the end."""
        limit, lost = day * 24.0, self._lost()
        done = sum(
            1
            for cid, hours in self.active_after_hours.items()
            if hours <= limit and cid not in lost
        )
        return done / self.members if self.members else 0.0

    def observe(self, cohort: list[SimMember], now: datetime.datetime) -> None:
        """Note the members whose every service became active since the last tick."""
        waiting = {s.common_id: s for s in cohort if s.common_id not in self.active_after_hours}
        if not waiting:
            return
        active: dict[str, set[str]] = {}
        for common_id, slug in Account.objects.filter(
            state=State.ACTIVE, member__common_id__in=list(waiting)
        ).values_list("member__common_id", "service__slug"):
            active.setdefault(common_id, set()).add(slug)
        hours = (now - self.start).total_seconds() / 3600
        for common_id, sim in waiting.items():
            if set(sim.services) <= active.get(common_id, set()):
                self.active_after_hours[common_id] = round(hours, 2)


def measure_day(measures: Measures, cohort: list[SimMember], day: int) -> None:
    states = Counter(Account.objects.values_list("state", flat=True))
    measures.per_day.append(
        {
            "day": day,
            "active_members": len(measures.active_after_hours),
            "active_share": round(measures.active_share, 4),
            "accounts": dict(sorted(states.items())),
        }
    )


def measure_end(
    measures: Measures,
    cohort: list[SimMember],
    events: dict[str, list[str]],
    sandbox: Sandbox,
    boxes: Mailboxes,
) -> None:
    active: dict[str, set[str]] = {}
    for common_id, slug in Account.objects.filter(state=State.ACTIVE).values_list(
        "member__common_id", "service__slug"
    ):
        active.setdefault(common_id, set()).add(slug)
    for sim in cohort:
        if not set(sim.services) <= active.get(sim.common_id, set()):
            measures.stuck.append(_stuck(sim, events.get(sim.common_id, [])))
    measures.inquiries = dict(
        Counter(
            f"{service or '-'}: {topic}"
            for service, topic in Inquiry.objects.values_list("service__slug", "topic")
        )
    )
    measures.helpdesk_mails = dict(Counter(why for s in cohort for why in s.helpdesk_mails))
    received = [s.mails_received for s in cohort]
    measures.mails = {
        "mean": round(statistics.fmean(received), 2) if received else 0.0,
        "median": statistics.median(received) if received else 0,
        "max": max(received, default=0),
        "deliveries refused by inactive mailboxes (with retries)": sum(boxes.refused.values()),
    }
    measures.vendor_calls = _vendor_calls(measures.members, sandbox)


def _stuck(sim: SimMember, history: list[str]) -> Stuck:
    states: dict[str, str] = {}
    reasons = []
    for account in Account.objects.filter(member__common_id=sim.common_id).select_related(
        "service"
    ):
        states[account.service.slug] = str(account.state)
        if account.state != State.ACTIVE:
            event = (
                AccountEvent.objects.filter(account=account).order_by("-created_at", "-pk").first()
            )
            # The event's reason, rendered from its code (accounts.reasons).
            last = event.reason if event else ""
            reasons.append(f"{account.service.slug}: {account.state} ({last or 'no reason given'})")
    for slug in sim.services:
        if slug not in states:
            states[slug] = "never applied"
            reasons.append(f"{slug}: no account (the member never saw an invitation or an apply)")
    traits = [
        name
        for name, on in (
            ("changed the address at Webex", sim.changed_address),
            ("chose Google on Zoom", sim.used_google),
            ("mailbox not activated", sim.mailbox_inactive),
            ("student after the cut-off", sim.after_cutoff),
            ("personal account", bool(sim.personal_at)),
        )
        if on
    ]
    told = "; ".join(f"{slug}: card “{kind}”" for slug, kind in sorted(sim.told.items()))
    reason = "; ".join(reasons) + (f" [{', '.join(traits)}]" if traits else "")
    return Stuck(sim.common_id, states, reason, told or "never looked at the portal", history[-6:])


def _vendor_calls(members: int, sandbox: Sandbox) -> dict[str, float]:
    ours = VendorCallCount.objects.values("service__slug").annotate(n=Sum("count"))
    calls = {f"campusconf → {row['service__slug']}": float(row["n"]) for row in ours}
    counters = sandbox.counters()
    by_vendor: Counter[str] = Counter()
    creates = 0
    for key, count in counters["requests"].items():
        by_vendor[key.split(" ", 1)[0]] += count
        if key.startswith("zoom POST users.create 2"):
            creates += count
    result = {k: round(v / max(members, 1), 2) for k, v in calls.items()}
    result |= {f"sandbox saw, {v}": round(n / max(members, 1), 2) for v, n in by_vendor.items()}
    result["rate-limited answers (429), total"] = float(counters.get("rate_limited", 0))
    result["Zoom creates, total"] = float(creates)
    result["Zoom daily create cap"] = float(ZOOM_DAILY_CREATES)
    return result
