"""The members of the term-start rush, for Locust; bench/rush.py runs it and reads its CSV.

``RUSH_MODE`` picks the users:

- ``rush`` (open model): each user is one member who signs in (the development
  sign-in, as the demo does), opens /my/, applies for every service and then keeps
  /my/ open, reloading it every ``RUSH_POLL_SECONDS`` (the page is the card until the
  portal has a card fragment of its own); beside them, a few users ask /healthz at a
  steady pace, the same server's bare page.
- ``closed-my`` / ``closed-healthz`` (closed loop): every user signs in once, then asks
  that one page again as soon as the last answer came, with no pause.
- ``closed-card`` (closed loop): every user signs in, applies for the first service and
  then asks its waiting card's refresh (the live card's poll) with no pause.

Members come from ``RUSH_FIRST_ID`` on, one per user, in the order users start.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import gevent.event
from locust import FastHttpUser, between, constant, constant_throughput, events, task

MODE = os.environ.get("RUSH_MODE", "rush")
FIRST_ID = int(os.environ.get("RUSH_FIRST_ID", "4000000000"))
POLL_SECONDS = float(os.environ.get("RUSH_POLL_SECONDS", "30"))
SERVICES = [s for s in os.environ.get("RUSH_SERVICES", "zoom,webex").split(",") if s]
HEALTH_PER_SECOND = float(os.environ.get("RUSH_HEALTH_PER_SECOND", "2"))

_next_member = itertools.count()
CARD_URL = re.compile(r'hx-get="(/my/services/[^"]+/card/[^"]*)"')

# The closed loops' own record: Locust's rate counts from the first user's start, which
# takes in the sign-ins; these count from the moment every user is signed in.
CLOSED_USERS = int(os.environ.get("RUSH_CLOSED_USERS", "0"))
OUT = os.environ.get("RUSH_OUT", "")
_signed_in = itertools.count(1)
_all_signed_in = gevent.event.Event()
_times: list[float] = []
_failures = 0
_window: list[float] = []


WEB_PID = int(os.environ.get("RUSH_WEB_PID", "0"))
_cpu: list[float] = []


def web_cpu_seconds() -> float:
    """User + system CPU of gunicorn's workers (the children of ``RUSH_WEB_PID``)."""
    total = 0.0
    try:
        children = Path(f"/proc/{WEB_PID}/task/{WEB_PID}/children").read_text().split()
    except OSError:
        return 0.0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


@events.request.add_listener
def _record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    global _failures
    if not _all_signed_in.is_set() or not name.startswith("closed "):
        return
    if not _window:
        _window.append(time.monotonic())
        _cpu.append(web_cpu_seconds())
    _times.append(response_time)
    _failures += exception is not None


@events.test_stop.add_listener
def _write(**_: Any) -> None:
    if OUT and _window:
        elapsed = time.monotonic() - _window[0]
        cpu = web_cpu_seconds() - _cpu[0]
        record = {"seconds": elapsed, "times_ms": _times, "failures": _failures, "cpu": cpu}
        with open(OUT, "w") as f:
            json.dump(record, f)


def ready() -> None:
    """A closed-loop user is signed in: the loop starts once all of them are."""
    if next(_signed_in) >= CLOSED_USERS:
        _all_signed_in.set()
    _all_signed_in.wait()


class Member(FastHttpUser):
    abstract = True

    def sign_in(self) -> None:
        common_id = f"{FIRST_ID + next(_next_member):010d}"
        # Any page sets the CSRF cookie; the sign-in page is the one a member sees first.
        self.client.get("/signin/", name="GET /signin/")
        with self.client.post(
            "/dev-login/",
            data={"common_id": common_id, "csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": self.host + "/dev-login/"},
            allow_redirects=False,
            name="POST /dev-login/ (sign-in)",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"sign-in of {common_id}: {answer.status_code}")

    def csrf(self) -> str:
        for cookie in self.client.cookiejar:
            if cookie.name == "csrftoken":
                return str(cookie.value)
        return ""

    def my(self, name: str) -> None:
        with self.client.get("/my/", name=name, allow_redirects=False, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"/my/ answered {r.status_code}")

    def apply(self, slug: str) -> None:
        with self.client.post(
            f"/my/services/{slug}/apply/",
            data={"csrfmiddlewaretoken": self.csrf()},
            headers={"Referer": self.host + "/my/"},
            allow_redirects=False,
            name="POST /my/services/<slug>/apply/",
            catch_response=True,
        ) as answer:
            if answer.status_code != 302:
                answer.failure(f"apply for {slug}: {answer.status_code}")


if MODE == "rush":

    class RushMember(Member):
        """Signs in, applies for everything, then keeps the page open."""

        weight = 100
        wait_time = between(0.5 * POLL_SECONDS, 1.5 * POLL_SECONDS)

        def on_start(self) -> None:
            self.sign_in()
            self.my("GET /my/ (first)")
            for slug in SERVICES:
                self.apply(slug)
                self.my("GET /my/ (after apply)")

        @task
        def poll(self) -> None:
            self.my("GET /my/ (card poll)")

    class Health(FastHttpUser):
        """The bare page at a steady pace, through the same server as the members."""

        fixed_count = 1
        wait_time = constant_throughput(HEALTH_PER_SECOND)

        @task
        def healthz(self) -> None:
            self.client.get("/healthz", name="GET /healthz")

elif MODE == "closed-my":

    class ClosedMy(Member):
        wait_time = constant(0)

        def on_start(self) -> None:
            self.sign_in()
            ready()

        @task
        def page(self) -> None:
            self.my("closed GET /my/")

elif MODE == "closed-healthz":

    class ClosedHealthz(FastHttpUser):
        wait_time = constant(0)

        def on_start(self) -> None:
            ready()

        @task
        def page(self) -> None:
            self.client.get("/healthz", name="closed GET /healthz")

elif MODE == "closed-card":

    class ClosedCard(Member):
        """A member with a waiting card open, its refresh asked with no pause: what an
        idle live card costs the server (204 until the card changes, then the new card,
        whose version the next refresh sends, as htmx does)."""

        wait_time = constant(0)
        card = ""

        def on_start(self) -> None:
            self.sign_in()
            self.apply(SERVICES[0])
            self.follow(self.client.get("/my/", name="GET /my/ (before the card loop)").text)
            ready()

        def follow(self, text: str) -> None:
            found = CARD_URL.search(text or "")
            if found:
                self.card = found.group(1).replace("&amp;", "&")

        @task
        def poll(self) -> None:
            if not self.card:
                self.my("closed GET /my/ (no waiting card)")
                return
            with self.client.get(
                self.card,
                headers={"HX-Request": "true"},
                name="closed GET card",
                catch_response=True,
            ) as answer:
                if answer.status_code == 200:
                    self.follow(answer.text)
                elif answer.status_code != 204:
                    answer.failure(f"card answered {answer.status_code}")

else:
    raise SystemExit(f"RUSH_MODE {MODE!r}: rush, closed-my, closed-card or closed-healthz")
