"""SCIM 2.0 connector, built on scim2-client and scim2-models.

One connector for any SCIM 2.0 server, with a profile for what differs between them
(``scim_profiles.py``): a plain server takes the licence as an entitlement; Zoom's
(``/scim2``) as the user type, and answers with its extension schema; Webex's
(``/identity/scim/{orgId}/v2``) wants ``userType`` on create, answers with Cisco's
extensions and keeps licences in its Licenses API (``scim_webex_licences.py``).

It runs scim2-client's sync client over httpx (``scim_transport.py``). There is no
pending state to re-invite: SCIM has no invitations.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx
from pydantic import ValidationError
from scim2_client import RequestNetworkException, SCIMClientException
from scim2_models import Error, ListResponse, SCIMException, User

from campusconf.connectors.base import Capabilities, UserSpec, VendorUser
from campusconf.connectors.http_helpers import (
    Op,
    Pacer,
    contract_failure,
    page_with_retries,
    parse_retry_after,
    transport_failure,
)
from campusconf.connectors.outcomes import (
    AlreadyExists,
    Created,
    ListingFailed,
    NotFound,
    Ok,
    Outcome,
    RateLimited,
    RateScope,
    Rejected,
    TransientFailure,
    UnknownOutcome,
)
from campusconf.connectors.scim_profiles import PROFILES, ScimProfile
from campusconf.connectors.scim_transport import (
    DEFAULT_TIMEOUT,
    BearerAuth,
    HttpxEngine,
    Token,
    tracking,
)
from campusconf.connectors.scim_webex_licences import WebexLicences

VENDOR = "scim"
log = logging.getLogger("campusconf.connectors")
MAX_PAGE = 1000
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

CAPABILITIES = Capabilities(
    resend_invitation=False,
    reinvite_replaces_user=False,
    invitations=False,
    listing_ids_for_pending=True,
    profile_update_when_pending=True,
    deactivate_keeps_licence=True,
    max_page_size=MAX_PAGE,
)


@dataclass(frozen=True)
class _Got:
    """A successful SCIM answer; internal."""

    value: Any
    tracking_id: str | None
    status: int | None


def webex_people_base(scim_base_url: str) -> str:
    """Webex's People API beside its SCIM API: ``…/identity/scim/{org}/v2`` -> ``…/v1``."""
    root, found, _ = scim_base_url.partition("/identity/scim/")
    return f"{root}/v1" if found else scim_base_url


class ScimConnector:
    capabilities = CAPABILITIES

    def __init__(
        self,
        base_url: str,
        token: Token,
        *,
        profile: str = "generic",
        licence_entitlement: str = "licensed",
        licence_id: str = "",
        licence_name: str = "",
        people_base_url: str = "",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._profile: ScimProfile = PROFILES[profile]
        auth = BearerAuth(token)
        client = httpx.Client(
            base_url=base_url.rstrip("/"), auth=auth, timeout=timeout, transport=transport
        )
        self._scim = HttpxEngine(client, self._profile.provider())
        self._licence = licence_entitlement
        self._pacer = pacer
        self._sleep = sleep
        self._people: httpx.Client | None = None
        self._licences: WebexLicences | None = None
        if self._profile.licence_in == "licenses_api":
            self._people = httpx.Client(
                base_url=(people_base_url or webex_people_base(base_url)).rstrip("/"),
                auth=auth,
                timeout=timeout,
                transport=transport,
                headers={"Accept": "application/json"},
            )
            self._licences = WebexLicences(
                self._send_people, licence_id=licence_id, licence_name=licence_name
            )

    def close(self) -> None:
        self._scim.client.close()
        if self._people is not None:
            self._people.close()

    # --- the one place that reads SCIM answers --------------------------------------

    def _classify(self, result: object, response: httpx.Response | None, op: Op) -> Outcome | _Got:
        status = response.status_code if response is not None else None
        tracking_id = tracking(response)
        meta: dict[str, Any] = {"tracking_id": tracking_id, "http_status": status}
        if isinstance(result, RequestNetworkException):
            cause = result.__cause__
            if isinstance(cause, httpx.TransportError):
                never_sent = isinstance(
                    cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                )
                return transport_failure(cause, op, VENDOR, never_sent=never_sent)
            return TransientFailure(reason=f"{VENDOR} {op.value}: {result}")
        if isinstance(result, SCIMException | ValidationError) and response is None:
            # scim2-models refused our own request before it was sent.
            return Rejected(reason=f"invalid SCIM request: {result}")
        if status == 429:
            seconds, until = parse_retry_after(
                response.headers.get("retry-after") if response else None
            )
            return RateLimited(scope=RateScope.UNKNOWN, retry_after=seconds, retry_at=until, **meta)
        if isinstance(result, Error) or (status is not None and status >= 400):
            detail = result.detail if isinstance(result, Error) else str(result)
            reason = detail or f"HTTP {status}"
            code = result.scim_type if isinstance(result, Error) else None
            if status in (404, 410):
                return NotFound(reason=reason, vendor_code=code, **meta)
            if status == 409:
                return AlreadyExists(reason=reason, vendor_code=code, **meta)
            if status is not None and status >= 500:
                if op is Op.CREATE:  # the user may exist: look before retrying
                    return UnknownOutcome(reason=reason, **meta)
                return TransientFailure(reason=reason, **meta)
            return Rejected(reason=reason, vendor_code=code, **meta)
        if isinstance(result, SCIMClientException | SCIMException | ValidationError):
            return contract_failure(op, VENDOR, str(result), tracking_id, status)
        return _Got(result, tracking_id, status)

    def _call(self, op: Op, action: Callable[[], object]) -> Outcome | _Got:
        if self._pacer is not None:
            self._pacer(op.value)
        self._scim.last_response = None
        try:
            result = action()
        except (SCIMClientException, SCIMException, ValidationError) as exc:
            result = exc
        return self._classify(result, self._scim.last_response, op)

    def _send_people(
        self, op: Op, method: str, url: str, **kwargs: Any
    ) -> Outcome | dict[str, Any]:
        """One request to Webex's People/Licenses API; its JSON object or the failure."""
        assert self._people is not None
        if self._pacer is not None:
            self._pacer(op.value)
        try:
            response = self._people.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            network = RequestNetworkException()
            network.__cause__ = exc
            answer = self._classify(network, None, op)
            assert not isinstance(answer, _Got)
            return answer
        if response.status_code >= 400:
            answer = self._classify(response.text[:200], response, op)
            assert not isinstance(answer, _Got)
            return answer
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            detail = f"{method} {url}: the answer is not a JSON object"
            return contract_failure(op, VENDOR, detail, tracking(response), response.status_code)
        return body

    def _licensed(self, users: Sequence[User[Any]]) -> set[str] | Outcome:
        """The ids of ``users`` that hold the licence."""
        if self._licences is None:
            profile, licence = self._profile, self._licence
            return {u.id for u in users if u.id and profile.licensed(u, licence)}
        ids = [u.id for u in users if u.id]
        return self._licences.licensed_among(ids) if ids else set()

    def _user_outcome(self, op: Op, answer: Outcome | _Got) -> Outcome:
        if not isinstance(answer, _Got):
            return answer
        if not isinstance(answer.value, User):
            detail = f"expected a User, got {type(answer.value).__name__}"
            return contract_failure(op, VENDOR, detail, answer.tracking_id, answer.status)
        licensed = self._licensed([answer.value])
        if not isinstance(licensed, set):
            return licensed
        user = self._profile.vendor_user(answer.value, answer.value.id in licensed)
        meta: dict[str, Any] = {"tracking_id": answer.tracking_id, "http_status": answer.status}
        return Created(user=user, **meta) if op is Op.CREATE else Ok(user=user, **meta)

    def _patch(self, op: Op, vendor_id: str, operations: list[dict[str, Any]]) -> Outcome:
        patch = {"schemas": [PATCH_SCHEMA], "Operations": operations}
        model = self._profile.model
        answer = self._call(op, lambda: self._scim.modify(model, vendor_id, patch))
        if not isinstance(answer, _Got):
            return answer
        return Ok(tracking_id=answer.tracking_id, http_status=answer.status)

    # --- the Connector protocol -------------------------------------------------------

    def create_user(self, spec: UserSpec) -> Outcome:
        user = self._profile.new_user(spec, self._licence)
        created = self._call(Op.CREATE, lambda: self._scim.create(user))
        if self._licences is None or not isinstance(created, _Got):
            return self._user_outcome(Op.CREATE, created)
        if not isinstance(created.value, User) or not created.value.id:
            detail = "the create answered no user with an id"
            return contract_failure(Op.CREATE, VENDOR, detail, created.tracking_id, created.status)
        new = self._profile.vendor_user(created.value, licensed=False)
        meta: dict[str, Any] = {"tracking_id": created.tracking_id, "http_status": created.status}
        if not spec.licensed:
            return Created(user=new, **meta)
        # Webex: the licence is a second call. The user exists whatever it answers, so
        # the create stands; an unlicensed user is what reconcile's licence check mends.
        licensed = self._licences.set(created.value.id, True)
        if not isinstance(licensed, Ok):
            log.warning("scim create of %s: licence not given: %r", spec.email, licensed)
            return Created(user=new, **meta)
        return Created(user=replace(new, licensed=True), **meta)

    def find_by_address(self, addresses: Sequence[str]) -> Outcome:
        for address in addresses:
            for attribute in self._profile.find_attributes:
                outcome = self._find_one(attribute, address)
                if not isinstance(outcome, NotFound):
                    return outcome
        return NotFound(reason=f"none of {len(addresses)} address(es) is a SCIM user")

    def _find_one(self, attribute: str, address: str) -> Outcome:
        quoted = address.replace("\\", "\\\\").replace('"', '\\"')
        search: dict[str, Any] = {"filter": f'{attribute} eq "{quoted}"', "count": 1}
        model = self._profile.model
        answer = self._call(Op.FIND, lambda: self._scim.query(model, query_parameters=search))
        if not isinstance(answer, _Got):
            return answer
        page = answer.value
        if not isinstance(page, ListResponse):
            detail = f"expected a ListResponse, got {type(page).__name__}"
            return contract_failure(Op.FIND, VENDOR, detail, answer.tracking_id, answer.status)
        if not page.resources:
            return NotFound(reason=f"no user with {attribute} {address}")
        return self._user_outcome(
            Op.FIND, _Got(page.resources[0], answer.tracking_id, answer.status)
        )

    def get_user(self, vendor_id: str) -> Outcome:
        model = self._profile.model
        return self._user_outcome(
            Op.GET, self._call(Op.GET, lambda: self._scim.query(model, vendor_id))
        )

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        count = max(1, min(page_size or 100, MAX_PAGE))
        start = 1
        model = self._profile.model
        while True:
            search: dict[str, Any] = {"startIndex": start, "count": count}

            def fetch(s: dict[str, Any] = search) -> Outcome | _Got:
                return self._call(Op.LIST, lambda: self._scim.query(model, query_parameters=s))

            answer = page_with_retries(fetch, self._sleep)
            if not isinstance(answer, _Got):
                raise ListingFailed(answer)
            page = answer.value
            if not isinstance(page, ListResponse):
                detail = f"expected a ListResponse, got {type(page).__name__}"
                raise ListingFailed(
                    contract_failure(Op.LIST, VENDOR, detail, answer.tracking_id, answer.status)
                )
            resources = [r for r in page.resources or [] if isinstance(r, User)]
            licensed = self._licensed(resources)
            if not isinstance(licensed, set):
                raise ListingFailed(licensed)
            for resource in resources:
                yield self._profile.vendor_user(resource, resource.id in licensed)
            start += len(page.resources or [])
            if not page.resources or start > (page.total_results or 0):
                return

    def reinvite(self, user: VendorUser) -> Outcome:
        return Rejected(reason="SCIM has no invitations to resend")

    def update_profile(
        self,
        vendor_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
    ) -> Outcome:
        paths = {
            "name.givenName": first_name,
            "name.familyName": last_name,
            "displayName": display_name,
        }
        operations = [
            {"op": "replace", "path": path, "value": value}
            for path, value in paths.items()
            if value is not None
        ]
        if not operations:
            return Ok()
        return self._patch(Op.UPDATE, vendor_id, operations)

    def set_licence(self, vendor_id: str, licensed: bool) -> Outcome:
        # Read first: a repeat changes nothing, and an unknown user is NotFound.
        current = self.get_user(vendor_id)
        if not isinstance(current, Ok) or current.user is None:
            return current
        if current.user.licensed == licensed:
            return current
        if self._licences is not None:
            return self._licences.set(vendor_id, licensed)
        operations = self._profile.licence_operations(licensed, self._licence)
        return self._patch(Op.LICENCE, vendor_id, operations)

    def deactivate(self, vendor_id: str) -> Outcome:
        operation = {"op": "replace", "path": "active", "value": False}
        return self._patch(Op.DEACTIVATE, vendor_id, [operation])

    def reactivate(self, vendor_id: str) -> Outcome:
        operation = {"op": "replace", "path": "active", "value": True}
        patched = self._patch(Op.REACTIVATE, vendor_id, [operation])
        if not isinstance(patched, Ok):
            return patched
        back = self.get_user(vendor_id)
        if not isinstance(back, Ok) or back.user is None or back.user.licensed:
            return back
        # A plain server keeps entitlements across `active`; Zoom drops the licence
        # when a user is deactivated (as its Users API does), so it is given back.
        licensed = self.set_licence(vendor_id, True)
        if not isinstance(licensed, Ok):
            return licensed
        return Ok(user=replace(back.user, licensed=True), tracking_id=licensed.tracking_id)

    def delete(self, vendor_id: str) -> Outcome:
        model = self._profile.model
        answer = self._call(Op.DELETE, lambda: self._scim.delete(model, vendor_id))
        if not isinstance(answer, _Got):
            return answer
        return Ok(tracking_id=answer.tracking_id, http_status=answer.status)
