"""Webex licences for users managed over Webex's SCIM API.

Cisco's SCIM 2 API carries no licences: they are read and assigned with the People
and Licenses APIs, on the same host with the same token. A person's People id is
its SCIM id wrapped as base64("ciscospark://us/PEOPLE/<id>") (the form Webex gives
its ids; docs/vendors.md, W-g). The licence is chosen as the Webex connector does:
by id, else by name in ``GET /licenses``, else the organisation's only licence.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any

from campusconf.connectors.http_helpers import Op
from campusconf.connectors.outcomes import Ok, Outcome, Rejected

# Sends one People/Licenses API request and answers its JSON object, or the outcome of
# a failure (the SCIM connector's classification; a body that is no object is one).
Send = Callable[..., "Outcome | dict[str, Any]"]
MAX_IDS = 85  # GET /people?id= takes at most this many ids


def person_id(scim_id: str) -> str:
    raw = f"ciscospark://us/PEOPLE/{scim_id}".encode()
    return base64.b64encode(raw).decode("ascii").rstrip("=")


class WebexLicences:
    def __init__(self, send: Send, *, licence_id: str = "", licence_name: str = "") -> None:
        self._send = send
        self._licence_id = licence_id
        self._licence_name = licence_name

    def licence(self) -> str | Outcome:
        if self._licence_id:
            return self._licence_id
        body = self._send(Op.GET, "GET", "/licenses")
        if not isinstance(body, dict):
            return body
        items = body.get("items")
        if not isinstance(items, list):
            return Rejected(reason="GET /licenses answered no list of licences")
        names = {i.get("id"): i.get("name") for i in items if isinstance(i, dict)}
        if self._licence_name:
            matches = [i for i, name in names.items() if name == self._licence_name]
        else:
            matches = list(names)
        if len(matches) != 1 or not isinstance(matches[0], str):
            choices = sorted(map(str, names.values()))
            return Rejected(reason=f"cannot choose the licence among {choices}")
        self._licence_id = matches[0]
        return self._licence_id

    def licensed_among(self, scim_ids: Sequence[str]) -> set[str] | Outcome:
        """Which of these users hold the licence (one People request per 85 users)."""
        licence = self.licence()
        if not isinstance(licence, str):
            return licence
        by_person = {person_id(i): i for i in scim_ids}
        found: set[str] = set()
        people = list(by_person)
        for start in range(0, len(people), MAX_IDS):
            chunk = people[start : start + MAX_IDS]
            params = {"id": ",".join(chunk), "max": len(chunk)}
            body = self._send(Op.GET, "GET", "/people", params=params)
            if not isinstance(body, dict):
                return body
            items = body.get("items")
            for item in items if isinstance(items, list) else []:
                if isinstance(item, dict) and licence in (item.get("licenses") or []):
                    found.add(by_person.get(str(item.get("id")), ""))
        return found - {""}

    def set(self, scim_id: str, licensed: bool) -> Outcome:
        licence = self.licence()
        if not isinstance(licence, str):
            return licence
        change = {"id": licence, "operation": "add" if licensed else "remove"}
        body = {"personId": person_id(scim_id), "licenses": [change]}
        answer = self._send(Op.LICENCE, "PATCH", "/licenses/users", json=body)
        if not isinstance(answer, dict):
            return answer
        held = answer.get("licenses")
        if isinstance(held, list) and (licence in held) is not licensed:
            # 206, partial success (W-b): the change asked for was not made.
            return Rejected(reason=f"Webex did not {change['operation']} the licence")
        return Ok()
