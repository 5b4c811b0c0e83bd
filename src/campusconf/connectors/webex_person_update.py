"""Webex's ``PUT /people/{id}``: it replaces the whole person (Errata W-d).

So an update reads the person, writes every field PUT accepts back with the change,
and, because Webex documents that a PUT answered with an error may still have changed
some fields, reads the person again after a failure before deciding what happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from campusconf.connectors.http_helpers import Op
from campusconf.connectors.outcomes import NotFound, Ok, Outcome, RateLimited, Rejected
from campusconf.connectors.outcomes import UnknownOutcome as Unknown
from campusconf.connectors.webex_payloads import put_body

log = logging.getLogger("campusconf.connectors")

# (op, method, url, **request keywords) → the person as an outcome (``Ok(user)``).
PersonCall = Callable[..., Outcome]


def put_person(call: PersonCall, op: Op, vendor_id: str, changes: Mapping[str, Any]) -> Outcome:
    """Read-modify-write of one person; ``Ok(user)`` with the person as it now is.

    After a failed PUT the person is read again: if it now is what we sent, the PUT
    took effect (Ok); if it is as before, the failure stands; if it is neither, the
    whole person as we meant it is put once more, so a half-applied PUT never leaves a
    person with, say, its licence or roles emptied.
    """
    url = f"/people/{quote(vendor_id, safe='')}"
    current = call(Op.GET, "GET", url)
    if not isinstance(current, Ok) or current.user is None:
        return current
    before = put_body(current.user.raw)
    if all(before.get(key) == value for key, value in changes.items()):
        return current  # already so: nothing to write
    if len(before.get("emails", [])) > 1:
        # A PUT must list the primary address first, and a read does not say which it
        # is (its order is not guaranteed): rather than guess and change it, refuse.
        return Rejected(
            reason=f"person {vendor_id} holds several addresses and Webex does not say "
            "which is primary; change them in Control Hub first",
            tracking_id=current.tracking_id,
            http_status=current.http_status,
        )
    body = {**before, **changes}
    out = call(op, "PUT", url, json=body)
    if isinstance(out, Ok | NotFound | RateLimited):
        return out  # done, gone, or not processed (429/423)
    after = call(Op.GET, "GET", url)
    if not isinstance(after, Ok) or after.user is None:
        return out
    left = put_body(after.user.raw)
    if left == body:
        return after
    if left == before:
        return out
    log.warning(
        "webex %s of person %s failed half-way (%r); putting the whole person back",
        op.value,
        vendor_id,
        out,
    )
    again = call(op, "PUT", url, json=body)
    if isinstance(again, Ok):
        return again
    reason = getattr(out, "reason", "") or type(out).__name__
    return Unknown(
        reason=f"a failed PUT changed part of person {vendor_id} and putting it back "
        f"failed too: {reason}",
        tracking_id=again.tracking_id,
        http_status=again.http_status,
    )
