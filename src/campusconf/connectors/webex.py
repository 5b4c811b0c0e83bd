"""Webex People API connector (service-app bearer token with refresh)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

from campusconf.connectors.base import Capabilities, Exchange, UserSpec, UserState, VendorUser
from campusconf.connectors.http import (
    ContractError,
    Op,
    Pacer,
    Reply,
    contract_failure,
    decode_json,
    make_reply,
    opt_str,
    page_with_retries,
    rate_limited,
    req_dict,
    req_list,
    req_str,
    send,
    transport_failure,
)
from campusconf.connectors.outcomes import (
    AlreadyExists,
    Created,
    ListingFailed,
    NotFound,
    Ok,
    Outcome,
    RateScope,
    Rejected,
    TransientFailure,
    UnknownOutcome,
)
from campusconf.connectors.webex_licences import LicenceChoice, patch_licence
from campusconf.connectors.webex_put import put_person
from campusconf.connectors.webex_wire import (
    create_body,
    error_fields,
    person,
)
from campusconf.connectors.wire import (
    DEFAULT_TIMEOUT,
    HttpClient,
    Response,
    Timeout,
    Transport,
    TransportError,
)

VENDOR = "webex"
log = logging.getLogger("campusconf.connectors")
MAX_PAGE = 1000  # UNCONFIRMED by Webex; the sandbox's maximum
TOKEN_MARGIN = 300.0  # seconds before expiry at which the access token is renewed
# A 429 or 423 without Retry-After: webexpythonsdk waits 15 seconds then (W-e).
DEFAULT_RETRY_AFTER = 15.0


@dataclass(frozen=True)
class WebexCredentials:
    """A service app's tokens. Without client id/secret/refresh token there is no renewal.

    `expires_at` is a Unix time; None means "unknown", and the token is then
    renewed only when Webex answers 401.
    """

    access_token: str
    refresh_token: str = ""
    client_id: str = ""
    client_secret: str = ""
    expires_at: float | None = None


CAPABILITIES = Capabilities(
    resend_invitation=False,
    reinvite_replaces_user=True,
    invitations=True,
    listing_ids_for_pending=True,
    profile_update_when_pending=True,
    deactivate_keeps_licence=True,
    max_page_size=MAX_PAGE,
)


class WebexConnector:
    capabilities = CAPABILITIES

    def __init__(
        self,
        credentials: WebexCredentials,
        *,
        base_url: str = "https://webexapis.com/v1",
        licence_id: str = "",
        licence_name: str = "",
        on_token_refresh: Callable[[WebexCredentials], None] | None = None,
        timeout: Timeout = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
        pacer: Pacer | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._credentials = credentials
        self._base_url = base_url.rstrip("/")
        self._licences = LicenceChoice(licence_id, licence_name)
        # Webex rotates refresh tokens: the caller must keep the new ones.
        self._on_token_refresh = on_token_refresh
        self._client = HttpClient(self._base_url, timeout=timeout, transport=transport)
        self._pacer = pacer
        self._clock = clock
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    # --- the one place that reads Webex's answers ---------------------------------

    def _classify(self, answer: Response | TransportError, op: Op) -> Outcome | Reply:
        if isinstance(answer, TransportError):
            return transport_failure(answer, op, VENDOR, never_sent=answer.never_sent)
        status = answer.status_code
        header_tracking = answer.headers.get("trackingid")
        if 200 <= status < 300:
            try:
                body = decode_json(answer)
            except ContractError as exc:
                return contract_failure(op, VENDOR, str(exc), header_tracking, status)
            return make_reply(answer, body, header_tracking)

        message, tracking = error_fields(answer)
        tracking = header_tracking or tracking
        reason = message or f"HTTP {status}"
        meta: dict[str, Any] = {"tracking_id": tracking, "http_status": status}
        if status in (429, 423):
            limited = rate_limited(answer.headers, RateScope.QPS, reason, tracking, status)
            if limited.retry_after is None and limited.retry_at is None:
                # Webex says a Retry-After "should be present"; without one, wait as
                # Cisco's own SDK does (W-e).
                return replace(limited, retry_after=DEFAULT_RETRY_AFTER)
            return limited
        if status in (404, 410):
            return NotFound(reason=reason, vendor_code=str(status), **meta)
        if status == 409:
            return AlreadyExists(reason=reason, vendor_code=str(status), **meta)
        if op is Op.CREATE and (status == 400 or status >= 500):
            # Documented quirk: a 400 may come back although the person was
            # created; a 5xx may hide a create too. Look up before retrying.
            return UnknownOutcome(reason=reason, **meta)
        if status >= 500:
            return TransientFailure(reason=reason, **meta)
        return Rejected(reason=reason, vendor_code=str(status), **meta)

    # --- transport with token handling --------------------------------------------

    def _can_refresh(self) -> bool:
        c = self._credentials
        return bool(c.refresh_token and c.client_id and c.client_secret)

    def _refresh_token(self) -> Outcome | None:
        c = self._credentials
        data = {
            "grant_type": "refresh_token",
            "client_id": c.client_id,
            "client_secret": c.client_secret,
            "refresh_token": c.refresh_token,
        }
        reply = self._classify(
            send(self._client, Op.AUTH, "POST", "/access_token", None, data=data), Op.AUTH
        )
        if not isinstance(reply, Reply):
            return reply
        try:
            body = req_dict(reply.body, "token answer")
            access = req_str(body, "access_token")
            lifetime = body.get("expires_in")
            if not isinstance(lifetime, int | float):
                raise ContractError("field 'expires_in' is not a number")
            refresh = opt_str(body, "refresh_token") or c.refresh_token
        except ContractError as exc:
            return contract_failure(Op.AUTH, VENDOR, str(exc), reply.tracking_id, reply.status)
        self._credentials = replace(
            c, access_token=access, refresh_token=refresh, expires_at=self._clock() + lifetime
        )
        if self._on_token_refresh is not None:
            self._on_token_refresh(self._credentials)
        return None

    def _request(self, op: Op, method: str, url: str, **kwargs: Any) -> Outcome | Reply:
        expires = self._credentials.expires_at
        if self._can_refresh() and expires is not None and self._clock() >= expires - TOKEN_MARGIN:
            failure = self._refresh_token()
            if failure is not None:
                return failure
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self._credentials.access_token}"}
            answer = send(self._client, op, method, url, self._pacer, headers=headers, **kwargs)
            # A 401 was not processed, so one retry with a renewed token is safe.
            unauthorised = isinstance(answer, Response) and answer.status_code == 401
            if unauthorised and attempt == 1 and self._can_refresh():
                failure = self._refresh_token()
                if failure is not None:
                    return failure
                continue
            break
        return self._classify(answer, op)

    def _licence(self) -> str | Outcome:
        return self._licences.resolve(self._request)

    def _person_outcome(self, op: Op, method: str, url: str, **kwargs: Any) -> Outcome:
        licence = self._licence()
        if not isinstance(licence, str):
            return licence
        return self._person_from(op, self._request(op, method, url, **kwargs), licence)

    def _person_from(self, op: Op, reply: Outcome | Reply, licence: str) -> Outcome:
        if not isinstance(reply, Reply):
            return reply
        try:
            user = person(req_dict(reply.body, "person"), licence)
        except ContractError as exc:
            return contract_failure(op, VENDOR, str(exc), reply.tracking_id, reply.status)
        meta: dict[str, Any] = {"tracking_id": reply.tracking_id, "http_status": reply.status}
        return Created(user=user, **meta) if op is Op.CREATE else Ok(user=user, **meta)

    # --- the Connector protocol -----------------------------------------------------

    def create_user(self, spec: UserSpec) -> Outcome:
        licence = self._licence()
        if not isinstance(licence, str):
            return licence
        body = create_body(spec, licence)
        return self._person_outcome(Op.CREATE, "POST", "/people", json=body)

    def create_exchange(self, spec: UserSpec) -> Exchange | None:
        via, licence = self._client.connections, self._licences.id
        expires = self._credentials.expires_at
        if via is None or not licence:
            return None
        if self._can_refresh() and expires is not None and self._clock() >= expires - TOKEN_MARGIN:
            return None
        headers = {"Authorization": f"Bearer {self._credentials.access_token}"}
        body = create_body(spec, licence)
        request = self._client.build("POST", "/people", headers=headers, json=body)

        def read(answer: Response | TransportError) -> Outcome | None:
            if isinstance(answer, Response) and answer.status_code == 401 and self._can_refresh():
                return None  # not processed: create_user renews the token and sends again
            return self._person_from(Op.CREATE, self._classify(answer, Op.CREATE), licence)

        return Exchange(request, read, via)

    def find_by_address(self, addresses: Sequence[str]) -> Outcome:
        licence = self._licence()
        if not isinstance(licence, str):
            return licence
        for address in addresses:
            reply = self._request(Op.FIND, "GET", "/people", params={"email": address})
            if not isinstance(reply, Reply):
                return reply
            try:
                items = req_list(req_dict(reply.body, "people list"), "items")
                user = person(req_dict(items[0], "person"), licence) if items else None
            except ContractError as exc:
                return contract_failure(Op.FIND, VENDOR, str(exc), reply.tracking_id, reply.status)
            if user is not None:
                return Ok(user=user, tracking_id=reply.tracking_id, http_status=reply.status)
        return NotFound(reason=f"none of {len(addresses)} address(es) is a Webex person")

    def get_user(self, vendor_id: str) -> Outcome:
        return self._person_outcome(Op.GET, "GET", f"/people/{quote(vendor_id, safe='')}")

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        licence = self._licence()
        if not isinstance(licence, str):
            raise ListingFailed(licence)
        size = max(1, min(page_size or 100, MAX_PAGE))
        url: str | None = "/people"
        params: dict[str, int] | None = {"max": size}
        while url is not None:
            fetch = functools.partial(self._request, Op.LIST, "GET", url, params=params)
            reply = page_with_retries(fetch, self._sleep)
            if not isinstance(reply, Reply):
                raise ListingFailed(reply)
            try:
                items = req_list(req_dict(reply.body, "people list"), "items")
                users = [person(req_dict(i, "person"), licence) for i in items]
                url, params = self._next_page(reply.next_link), None
            except ContractError as exc:
                failure = contract_failure(
                    Op.LIST, VENDOR, str(exc), reply.tracking_id, reply.status
                )
                raise ListingFailed(failure) from exc
            yield from users

    def _next_page(self, link: str | None) -> str | None:
        # The token goes wherever the Link points: only follow it on our base URL.
        if link is not None and not link.startswith(self._base_url + "/"):
            raise ContractError(f"next page link leaves the API: {link!r}")
        return link

    def reinvite(self, user: VendorUser) -> Outcome:
        # Webex has no per-user resend (only an org-wide job that mails every
        # pending user). A person who never signed in holds nothing, so we
        # remove it and add it again: a new licensed person gets a new mail.
        if user.state is not UserState.PENDING or user.vendor_id is None:
            return Rejected(reason="the user already activated; there is no invitation to resend")
        removed = self.delete(user.vendor_id)
        if not isinstance(removed, Ok | NotFound):
            return removed
        spec = UserSpec(
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            display_name=user.display_name or user.email,
            licensed=user.licensed,
        )
        return self.create_user(spec)

    def _put(self, op: Op, vendor_id: str, changes: Mapping[str, Any]) -> Outcome:
        return put_person(self._person_outcome, op, vendor_id, changes)

    def update_profile(
        self,
        vendor_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
    ) -> Outcome:
        names = {"firstName": first_name, "lastName": last_name, "displayName": display_name}
        changes = {key: value for key, value in names.items() if value is not None}
        if not changes:
            return Ok()
        return self._put(Op.UPDATE, vendor_id, changes)

    def set_licence(self, vendor_id: str, licensed: bool) -> Outcome:
        licence = self._licence()
        if not isinstance(licence, str):
            return licence
        return patch_licence(self._request, vendor_id, licence, licensed)

    def deactivate(self, vendor_id: str) -> Outcome:
        return self._put(Op.DEACTIVATE, vendor_id, {"loginEnabled": False})

    def reactivate(self, vendor_id: str) -> Outcome:
        # Deactivating kept the licence (Capabilities.deactivate_keeps_licence): the
        # person may sign in again as before. One who never signed in stays pending.
        out = self._put(Op.REACTIVATE, vendor_id, {"loginEnabled": True})
        if not isinstance(out, Ok) or out.user is None or out.user.licensed:
            return out
        # Unlicensed all the same: an earlier half-applied PUT may have emptied the
        # licences (a retry then finds sign-in enabled already). Give it back.
        licensed = self.set_licence(vendor_id, True)
        if not isinstance(licensed, Ok):
            return licensed
        return Ok(
            user=replace(out.user, licensed=True),
            tracking_id=licensed.tracking_id,
            http_status=licensed.http_status,
        )

    def delete(self, vendor_id: str) -> Outcome:
        reply = self._request(Op.DELETE, "DELETE", f"/people/{quote(vendor_id, safe='')}")
        if not isinstance(reply, Reply):
            return reply
        return Ok(tracking_id=reply.tracking_id, http_status=reply.status)
