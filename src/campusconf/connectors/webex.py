"""Webex People API connector (service-app bearer token with refresh)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from campusconf.connectors import webex_auth
from campusconf.connectors.base import Capabilities, Exchange, UserSpec, UserState, VendorUser
from campusconf.connectors.bearer import BearerClient
from campusconf.connectors.http_helpers import (
    ContractError,
    Op,
    Pacer,
    Reply,
    contract_failure,
    decode_json,
    make_reply,
    page_with_retries,
    rate_limited,
    req_dict,
    req_list,
    transport_failure,
)
from campusconf.connectors.outcomes import (
    AlreadyExists,
    Created,
    ListingFailed,
    NotAuthorised,
    NotFound,
    Ok,
    Outcome,
    RateScope,
    Rejected,
    TransientFailure,
    UnknownOutcome,
)
from campusconf.connectors.tokens import MemoryTokenStore, Token, TokenKeeper, TokenStore
from campusconf.connectors.transport.http_client import (
    DEFAULT_TIMEOUT,
    HttpClient,
    Response,
    Timeout,
    Transport,
    TransportError,
)
from campusconf.connectors.webex_auth import WebexCredentials
from campusconf.connectors.webex_licences import LicenceChoice, patch_licence
from campusconf.connectors.webex_payloads import (
    create_body,
    error_fields,
    person,
)
from campusconf.connectors.webex_person_update import put_person

VENDOR = "webex"
log = logging.getLogger("campusconf.connectors")
MAX_PAGE = 1000  # UNCONFIRMED by Webex; the sandbox's maximum
MAX_IDS = 85  # GET /people?id=…: Cisco's OpenAPI, "Accepts up to 85 person IDs" (W-i)
TOKEN_MARGIN = 300.0  # seconds before expiry at which the access token is renewed
# A 429 or 423 without Retry-After: webexpythonsdk waits 15 seconds then (W-e).
DEFAULT_RETRY_AFTER = 15.0


__all__ = ["WebexConnector", "WebexCredentials"]


CAPABILITIES = Capabilities(
    resend_invitation=False,
    reinvite_replaces_user=True,
    invitations=True,
    listing_ids_for_pending=True,
    profile_update_when_pending=True,
    deactivate_keeps_licence=True,
    max_page_size=MAX_PAGE,
)


class WebexConnector(BearerClient):
    capabilities = CAPABILITIES
    max_batch = MAX_IDS  # base.BatchRead

    def __init__(
        self,
        credentials: WebexCredentials,
        *,
        base_url: str = "https://webexapis.com/v1",
        licence_id: str = "",
        licence_name: str = "",
        timeout: Timeout = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
        pacer: Pacer | None = None,
        token_store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._licences = LicenceChoice(licence_id, licence_name)
        self._client = HttpClient(self._base_url, timeout=timeout, transport=transport)
        self._pacer = pacer
        self._sleep = sleep
        # The environment's tokens seed ``token_store``; the renewed ones live there.
        self.tokens = TokenKeeper(
            token_store or MemoryTokenStore(),
            webex_auth.fetcher(self._client, credentials, clock),
            credential=webex_auth.fingerprint(credentials),
            margin=TOKEN_MARGIN,
            clock=clock,
        )

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

    # --- the service's token (bearer.BearerClient) ----------------------------------

    def _token_refused(self, answer: Response) -> bool:
        return answer.status_code == 401

    def _refusal(self, answer: Response, method: str, url: str) -> NotAuthorised | None:
        return webex_auth.refusal(answer, webex_auth.scope_for(method, url))

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
        via, licence, token = self._client.connections, self._licences.id, self.tokens.peek()
        if via is None or not licence or token is None:
            return None
        headers = {"Authorization": f"Bearer {token.access_token}"}
        body = create_body(spec, licence)
        request = self._client.build("POST", "/people", headers=headers, json=body)

        def read(answer: Response | TransportError) -> Outcome | None:
            if isinstance(answer, Response):
                if self._token_refused(answer):
                    self.tokens.forget(token)  # not processed: the caller sends it again
                    return None
                refused = self._refusal(answer, "POST", "/people")
                if refused is not None:
                    return refused
            return self._person_from(Op.CREATE, self._classify(answer, Op.CREATE), licence)

        return Exchange(request, read, via)

    def prepare_create(self) -> Outcome | None:
        token = self.tokens.current()
        if not isinstance(token, Token):
            return token
        licence = self._licence()
        return None if isinstance(licence, str) else licence

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

    def get_users(self, vendor_ids: Sequence[str]) -> dict[str, VendorUser] | Outcome:
        """``base.BatchRead``: one ``GET /people?id=…``. Cisco says such a list leaves out
        presence and "administrative fields like licenses, roles" (W-i): a person without
        ``licenses`` is partial (its licence unknown, not absent); one without the
        invitation flags cannot tell pending from active, and the read is ``Rejected``."""
        if not 1 <= len(vendor_ids) <= MAX_IDS:
            raise ValueError(f"between 1 and {MAX_IDS} ids, not {len(vendor_ids)}")
        licence = self._licence()
        if not isinstance(licence, str):
            return licence
        params = {"id": ",".join(vendor_ids), "max": MAX_IDS}
        reply = self._request(Op.GET, "GET", "/people", params=params)
        if not isinstance(reply, Reply):
            return reply
        meta: dict[str, Any] = {"tracking_id": reply.tracking_id, "http_status": reply.status}
        try:
            items = req_list(req_dict(reply.body, "people list"), "items")
            records = [req_dict(i, "person") for i in items]
            if any("invitePending" not in r or "loginEnabled" not in r for r in records):
                reason = "GET /people?id= answered without invitePending/loginEnabled (W-i)"
                return Rejected(reason=reason, vendor_code="W-i", **meta)
            users = [self._listed(r, licence) for r in records]
        except ContractError as exc:
            return contract_failure(Op.GET, VENDOR, str(exc), reply.tracking_id, reply.status)
        return {u.vendor_id: u for u in users if u.vendor_id}

    @staticmethod
    def _listed(record: Mapping[str, Any], licence: str) -> VendorUser:
        user = person(record, licence)
        return user if "licenses" in record else replace(user, partial=True)

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

    def restore_address(self, vendor_id: str, address: str) -> Outcome:
        # The member changed the address on their profile (S9) and Webex took the
        # organisation's licences with it; an admin's PUT may write ``emails`` (Cisco's
        # "Update a Person"), and the licence is given back as for any person.
        out = self._put(Op.UPDATE, vendor_id, {"emails": [address]})
        if not isinstance(out, Ok) or out.user is None:
            return out
        if out.user.licensed:
            return out
        licensed = self.set_licence(vendor_id, True)
        if not isinstance(licensed, Ok):
            return licensed
        return Ok(
            user=replace(out.user, licensed=True),
            tracking_id=licensed.tracking_id,
            http_status=licensed.http_status,
        )

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
