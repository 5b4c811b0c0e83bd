"""Generic SCIM 2.0 connector, built on scim2-client and scim2-models.

scim2-client ships an engine for the `httpx2` package, which we do not use;
`_HttpxEngine` below is the few lines that run its sync client over httpx.
SCIM knows nothing of licences or invitations: a licence is an entitlement
whose value is a setting, and there is no pending state to re-invite.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError
from scim2_client import (
    BaseSyncSCIMClient,
    RequestNetworkException,
    SCIMClientException,
)
from scim2_models import (
    Email,
    Entitlement,
    Error,
    ListResponse,
    Name,
    SCIMException,
    ScimProvider,
    User,
)

from campusconf.connectors.base import Capabilities, UserSpec, UserState, VendorUser
from campusconf.connectors.http import (
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

VENDOR = "scim"
# SCIM stays on httpx (scim2-client's client is built for it); same limits as wire.py's.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=20.0, pool=5.0)
MAX_PAGE = 1000
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
# Generic servers have no common tracking header; these are the usual ones.
TRACKING_HEADERS = ("trackingid", "x-request-id", "x-correlation-id")

CAPABILITIES = Capabilities(
    resend_invitation=False,
    reinvite_replaces_user=False,
    invitations=False,
    listing_ids_for_pending=True,
    profile_update_when_pending=True,
    deactivate_keeps_licence=True,
    max_page_size=MAX_PAGE,
)


class _HttpxEngine(BaseSyncSCIMClient):
    """scim2-client's sync client over an httpx.Client; keeps the last HTTP answer."""

    def __init__(self, client: httpx.Client, provider: ScimProvider) -> None:
        super().__init__(provider=provider, raise_scim_errors=False)
        self.client = client
        self.last_response: httpx.Response | None = None

    def _stays_under_base_url(self, endpoint: str) -> bool:
        base = self.client.base_url
        url = self.client.build_request("GET", endpoint).url
        return url.host == base.host and url.port == base.port and url.path.startswith(base.path)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            self.last_response = self.client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise RequestNetworkException() from exc
        return self.last_response


@dataclass(frozen=True)
class _Got:
    """A successful SCIM answer; internal."""

    value: Any
    tracking_id: str | None
    status: int | None


class ScimConnector:
    capabilities = CAPABILITIES

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        licence_entitlement: str = "licensed",
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        pacer: Pacer | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )
        self._scim = _HttpxEngine(client, ScimProvider(models=[User]))
        self._licence = licence_entitlement
        self._pacer = pacer
        self._sleep = sleep

    def close(self) -> None:
        self._scim.client.close()

    # --- the one place that reads SCIM answers --------------------------------------

    def _classify(self, result: object, response: httpx.Response | None, op: Op) -> Outcome | _Got:
        status = response.status_code if response is not None else None
        tracking = _tracking(response)
        meta: dict[str, Any] = {"tracking_id": tracking, "http_status": status}
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
            if status == 404:
                return NotFound(reason=reason, vendor_code=code, **meta)
            if status == 409:
                return AlreadyExists(reason=reason, vendor_code=code, **meta)
            if status is not None and status >= 500:
                if op is Op.CREATE:  # the user may exist: look before retrying
                    return UnknownOutcome(reason=reason, **meta)
                return TransientFailure(reason=reason, **meta)
            return Rejected(reason=reason, vendor_code=code, **meta)
        if isinstance(result, SCIMClientException | SCIMException | ValidationError):
            return contract_failure(op, VENDOR, str(result), tracking, status)
        return _Got(result, tracking, status)

    def _call(self, op: Op, action: Callable[[], object]) -> Outcome | _Got:
        if self._pacer is not None:
            self._pacer(op.value)
        self._scim.last_response = None
        try:
            result = action()
        except (SCIMClientException, SCIMException, ValidationError) as exc:
            result = exc
        return self._classify(result, self._scim.last_response, op)

    def _user_outcome(self, op: Op, answer: Outcome | _Got) -> Outcome:
        if not isinstance(answer, _Got):
            return answer
        if not isinstance(answer.value, User):
            detail = f"expected a User, got {type(answer.value).__name__}"
            return contract_failure(op, VENDOR, detail, answer.tracking_id, answer.status)
        user = _vendor_user(answer.value, self._licence)
        meta: dict[str, Any] = {"tracking_id": answer.tracking_id, "http_status": answer.status}
        return Created(user=user, **meta) if op is Op.CREATE else Ok(user=user, **meta)

    def _patch(self, op: Op, vendor_id: str, operations: list[dict[str, Any]]) -> Outcome:
        patch = {"schemas": [PATCH_SCHEMA], "Operations": operations}
        answer = self._call(op, lambda: self._scim.modify(User, vendor_id, patch))
        if not isinstance(answer, _Got):
            return answer
        return Ok(tracking_id=answer.tracking_id, http_status=answer.status)

    # --- the Connector protocol -------------------------------------------------------

    def create_user(self, spec: UserSpec) -> Outcome:
        user: User[Any] = User(
            user_name=spec.email,
            name=Name(given_name=spec.first_name, family_name=spec.last_name),
            display_name=spec.display_name,
            emails=[Email(value=spec.email, primary=True)],
            active=True,
            entitlements=[Entitlement(value=self._licence)] if spec.licensed else None,
        )
        return self._user_outcome(Op.CREATE, self._call(Op.CREATE, lambda: self._scim.create(user)))

    def find_by_address(self, addresses: Sequence[str]) -> Outcome:
        for address in addresses:
            for attribute in ("userName", "emails.value"):
                outcome = self._find_one(attribute, address)
                if not isinstance(outcome, NotFound):
                    return outcome
        return NotFound(reason=f"none of {len(addresses)} address(es) is a SCIM user")

    def _find_one(self, attribute: str, address: str) -> Outcome:
        quoted = address.replace("\\", "\\\\").replace('"', '\\"')
        search: dict[str, Any] = {"filter": f'{attribute} eq "{quoted}"', "count": 1}
        answer = self._call(Op.FIND, lambda: self._scim.query(User, query_parameters=search))
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
        return self._user_outcome(
            Op.GET, self._call(Op.GET, lambda: self._scim.query(User, vendor_id))
        )

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        count = max(1, min(page_size or 100, MAX_PAGE))
        start = 1
        while True:
            search: dict[str, Any] = {"startIndex": start, "count": count}

            def fetch(s: dict[str, Any] = search) -> Outcome | _Got:
                return self._call(Op.LIST, lambda: self._scim.query(User, query_parameters=s))

            answer = page_with_retries(fetch, self._sleep)
            if not isinstance(answer, _Got):
                raise ListingFailed(answer)
            page = answer.value
            if not isinstance(page, ListResponse):
                detail = f"expected a ListResponse, got {type(page).__name__}"
                raise ListingFailed(
                    contract_failure(Op.LIST, VENDOR, detail, answer.tracking_id, answer.status)
                )
            resources = page.resources or []
            for resource in resources:
                if isinstance(resource, User):
                    yield _vendor_user(resource, self._licence)
            start += len(resources)
            if not resources or start > (page.total_results or 0):
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
        # Read first, so that a repeated call does not add the entitlement twice.
        current = self.get_user(vendor_id)
        if not isinstance(current, Ok) or current.user is None:
            return current
        if current.user.licensed == licensed:
            return current
        if licensed:
            operation = {"op": "add", "path": "entitlements", "value": [{"value": self._licence}]}
        else:
            operation = {"op": "remove", "path": f'entitlements[value eq "{self._licence}"]'}
        return self._patch(Op.LICENCE, vendor_id, [operation])

    def deactivate(self, vendor_id: str) -> Outcome:
        operation = {"op": "replace", "path": "active", "value": False}
        return self._patch(Op.DEACTIVATE, vendor_id, [operation])

    def reactivate(self, vendor_id: str) -> Outcome:
        # SCIM's `active` is the whole of it: deactivating kept the entitlements.
        operation = {"op": "replace", "path": "active", "value": True}
        patched = self._patch(Op.REACTIVATE, vendor_id, [operation])
        if not isinstance(patched, Ok):
            return patched
        return self.get_user(vendor_id)  # Ok(user), as the protocol promises

    def delete(self, vendor_id: str) -> Outcome:
        answer = self._call(Op.DELETE, lambda: self._scim.delete(User, vendor_id))
        if not isinstance(answer, _Got):
            return answer
        return Ok(tracking_id=answer.tracking_id, http_status=answer.status)


def _tracking(response: httpx.Response | None) -> str | None:
    if response is None:
        return None
    for header in TRACKING_HEADERS:
        value = response.headers.get(header)
        if isinstance(value, str) and value:
            return value
    return None


def _vendor_user(user: User[Any], licence: str) -> VendorUser:
    emails = user.emails or []
    primary = next((e.value for e in emails if e.primary and e.value), None)
    address = primary or next((e.value for e in emails if e.value), None) or user.user_name or ""
    entitlements = {e.value for e in user.entitlements or []}
    return VendorUser(
        vendor_id=user.id,
        email=address,
        first_name=(user.name.given_name if user.name else None) or "",
        last_name=(user.name.family_name if user.name else None) or "",
        display_name=user.display_name or "",
        # SCIM has no invitation state: a user is either active or not.
        state=UserState.INACTIVE if user.active is False else UserState.ACTIVE,
        licensed=licence in entitlements,
        created=user.meta.created if user.meta else None,
        raw=user.model_dump(),
    )
