"""Webex licences: which one is the service's, and giving or taking it (Errata W-b).

``GET /licenses`` needs the scope ``spark-admin:licenses_read`` besides the people
scopes; ``PATCH /licenses/users`` may answer 206, a partial success whose body says
which licences the person now holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from campusconf.connectors.http_helpers import ContractError, Op, Reply, contract_failure
from campusconf.connectors.outcomes import Ok, Outcome, Rejected
from campusconf.connectors.webex_payloads import choose_licence, licences_after_patch

VENDOR = "webex"
SCOPE = "spark-admin:licenses_read"
PARTIAL = 206  # some of the changes were made; the body says which licences hold

# (op, method, url, **request keywords) → the answer, or the outcome of a failure.
Request = Callable[..., Outcome | Reply]


class LicenceChoice:
    """The service's licence id: configured, or found by name in ``GET /licenses``
    once (anything ambiguous is refused, never guessed)."""

    def __init__(self, licence_id: str = "", licence_name: str = "") -> None:
        self.id = licence_id
        self._name = licence_name

    def resolve(self, request: Request) -> str | Outcome:
        if self.id:
            return self.id
        reply = request(Op.GET, "GET", "/licenses")
        if isinstance(reply, Rejected) and reply.http_status == 403:
            return replace(
                reply,
                reason=f"Webex refused to list the licences ({reply.reason}): the token needs "
                f"the scope {SCOPE}, or set the service's licence_id",
            )
        if not isinstance(reply, Reply):
            return reply
        try:
            chosen = choose_licence(reply.body, self._name)
        except ContractError as exc:
            return contract_failure(Op.GET, VENDOR, str(exc), reply.tracking_id, reply.status)
        if isinstance(chosen, list):
            return Rejected(reason=f"cannot choose the licence among {chosen}")
        self.id = chosen
        return chosen


def patch_licence(request: Request, vendor_id: str, licence: str, licensed: bool) -> Outcome:
    """Give (``licensed``) or take the licence. A 200 made every change; a 206 made some,
    and its body says what the person now holds: Ok only if that includes ours."""
    change = {"id": licence, "operation": "add" if licensed else "remove"}
    body = {"personId": vendor_id, "licenses": [change]}
    reply = request(Op.LICENCE, "PATCH", "/licenses/users", json=body)
    if not isinstance(reply, Reply):
        return reply
    meta: dict[str, Any] = {"tracking_id": reply.tracking_id, "http_status": reply.status}
    if reply.status != PARTIAL:
        return Ok(**meta)
    try:
        held = licences_after_patch(reply.body)
    except ContractError as exc:
        return contract_failure(Op.LICENCE, VENDOR, str(exc), reply.tracking_id, reply.status)
    if (licence in held) != licensed:
        # Our change is among those left out: a constraint (no units left, a licence
        # the system assigns itself) that retrying will not lift.
        done = "assign" if licensed else "remove"
        return Rejected(
            reason=f"Webex could not {done} the licence {licence} (HTTP {reply.status}: only "
            "part of the change was made)",
            vendor_code=str(reply.status),
            **meta,
        )
    return Ok(**meta)
