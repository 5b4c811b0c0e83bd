"""Zoom Users API connector (Server-to-Server OAuth)."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote

from campusconf.connectors import zoom_auth, zoom_payloads
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
    opt_str,
    page_with_retries,
    req_dict,
    req_list,
    transport_failure,
)
from campusconf.connectors.outcomes import (
    AlreadyExists,
    Created,
    HeldElsewhere,
    ListingFailed,
    NotAuthorised,
    NotFound,
    Ok,
    Outcome,
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

VENDOR = "zoom"
MAX_PAGE = 300
# Renew the token this long before Zoom says it expires, so a request never
# leaves with a token that dies on the way.
TOKEN_MARGIN = 120.0
# A listing whose next_page_token expired (15 minutes) restarts that status
# from the first page; more restarts than this means we are too slow to list.
LIST_RESTARTS = 3


@dataclass(frozen=True)
class ZoomCredentials:
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)


CAPABILITIES = Capabilities(
    resend_invitation=False,
    reinvite_replaces_user=True,
    invitations=True,
    listing_ids_for_pending=False,
    profile_update_when_pending=False,
    deactivate_keeps_licence=False,
    max_page_size=MAX_PAGE,
)


class ZoomConnector(BearerClient):
    capabilities = CAPABILITIES

    def __init__(
        self,
        credentials: ZoomCredentials,
        *,
        base_url: str = "https://api.zoom.us/v2",
        oauth_base_url: str = "https://zoom.us",
        delete_action: Literal["delete", "disassociate"] = "delete",
        timeout: Timeout = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
        pacer: Pacer | None = None,
        token_store: TokenStore | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._delete_action = delete_action
        self._client = HttpClient(base_url, timeout=timeout, transport=transport)
        self._pacer = pacer
        self._sleep = sleep
        c = credentials
        oauth_url = oauth_base_url.rstrip("/") + "/oauth/token"
        # One token for the whole service (Zoom knocks out the previous one when asked
        # for another): kept in ``token_store``, shared by every process (tokens.py).
        self.tokens = TokenKeeper(
            token_store or MemoryTokenStore(),
            zoom_auth.fetcher(
                self._client, oauth_url, c.account_id, c.client_id, c.client_secret, clock
            ),
            credential=zoom_auth.fingerprint(c.account_id, c.client_id, c.client_secret),
            margin=TOKEN_MARGIN,
            clock=clock,
        )

    def close(self) -> None:
        self._client.close()

    # --- the one place that reads Zoom's answers --------------------------------

    def _classify(self, answer: Response | TransportError, op: Op) -> Outcome | Reply:
        if isinstance(answer, TransportError):
            return transport_failure(answer, op, VENDOR, never_sent=answer.never_sent)
        status = answer.status_code
        tracking = answer.headers.get("x-zm-trackingid")
        if 200 <= status < 300:
            try:
                body = decode_json(answer)
            except ContractError as exc:
                return contract_failure(op, VENDOR, str(exc), tracking, status)
            return make_reply(answer, body, tracking)

        refused = zoom_auth.refusal(answer)
        if refused is not None:
            return refused
        code, message = zoom_payloads.error_fields(answer)
        reason = message or f"HTTP {status}"
        vendor_code = None if code is None else str(code)
        meta: dict[str, Any] = {"tracking_id": tracking, "http_status": status}
        if status == 429:
            return zoom_payloads.rate_limited_answer(answer, reason, tracking)
        if code in zoom_payloads.NOT_FOUND_CODES or (status == 404 and code is None):
            return NotFound(reason=reason, vendor_code=vendor_code, **meta)
        if code in zoom_payloads.HELD_ELSEWHERE_CODES:
            return HeldElsewhere(reason=reason, vendor_code=vendor_code, **meta)
        if code in zoom_payloads.EXISTS_CODES or (status == 409 and code is None):
            return AlreadyExists(reason=reason, vendor_code=vendor_code, **meta)
        if status >= 500:
            # A create that failed inside Zoom may still have created the
            # user: look it up before retrying. Other writes are idempotent.
            if op is Op.CREATE:
                return UnknownOutcome(reason=reason, **meta)
            return TransientFailure(reason=reason, **meta)
        # 400/403/…, including code 200 ("You can add max N paid users").
        return Rejected(reason=reason, vendor_code=vendor_code, **meta)

    # --- the service's token (bearer.BearerClient) --------------------------------

    def _token_refused(self, answer: Response) -> bool:
        return zoom_auth.token_refused(answer)

    def _refusal(self, answer: Response, method: str, url: str) -> NotAuthorised | None:
        return zoom_auth.refusal(answer)

    def _user_outcome(
        self, op: Op, path: str, created: bool = False, asked: str = "", **kwargs: Any
    ) -> Outcome:
        method = "POST" if created else "GET"
        return self._user_from(op, self._request(op, method, path, **kwargs), created, asked)

    def _user_from(self, op: Op, reply: Outcome | Reply, created: bool, asked: str = "") -> Outcome:
        if not isinstance(reply, Reply):
            return reply
        try:
            # A single read without "status" is a pending user (Zoom's Get a user).
            user = zoom_payloads.user(req_dict(reply.body, "user"), UserState.PENDING, asked)
        except ContractError as exc:
            return contract_failure(op, VENDOR, str(exc), reply.tracking_id, reply.status)
        meta: dict[str, Any] = {"tracking_id": reply.tracking_id, "http_status": reply.status}
        return Created(user=user, **meta) if created else Ok(user=user, **meta)

    def _write(self, op: Op, method: str, path: str, **kwargs: Any) -> Outcome:
        reply = self._request(op, method, path, **kwargs)
        if not isinstance(reply, Reply):
            return reply
        return Ok(tracking_id=reply.tracking_id, http_status=reply.status)

    # --- the Connector protocol ---------------------------------------------------

    def create_user(self, spec: UserSpec) -> Outcome:
        body = zoom_payloads.create_body(spec)
        return self._user_outcome(Op.CREATE, "/users", created=True, asked=spec.email, json=body)

    def create_exchange(self, spec: UserSpec) -> Exchange | None:
        via, token = self._client.connections, self.tokens.peek()
        if via is None or token is None:
            return None
        headers = {"Authorization": f"Bearer {token.access_token}"}
        request = self._client.build(
            "POST", "/users", headers=headers, json=zoom_payloads.create_body(spec)
        )

        def read(answer: Response | TransportError) -> Outcome | None:
            if isinstance(answer, Response) and zoom_auth.token_refused(answer):
                # Not processed (another process renewed the token, or it expired):
                # create_user takes the store's token and sends again.
                self.tokens.forget(token)
                return None
            return self._user_from(Op.CREATE, self._classify(answer, Op.CREATE), True, spec.email)

        return Exchange(request, read, via)

    def prepare_create(self) -> Outcome | None:
        token = self.tokens.current()
        return None if isinstance(token, Token) else token

    def find_by_address(self, addresses: Sequence[str]) -> Outcome:
        for address in addresses:
            # Zoom takes an address wherever it takes a user id.
            path = f"/users/{quote(address, safe='@')}"
            outcome = self._user_outcome(Op.FIND, path, asked=address)
            if not isinstance(outcome, NotFound):
                return outcome
        return NotFound(reason=f"none of {len(addresses)} address(es) is a Zoom user")

    def get_user(self, vendor_id: str) -> Outcome:
        path = f"/users/{quote(vendor_id, safe='@')}"
        return self._user_outcome(Op.GET, path, asked=vendor_id)

    def iter_users(self, page_size: int | None = None) -> Iterator[VendorUser]:
        size = max(1, min(page_size or MAX_PAGE, MAX_PAGE))
        for status in (UserState.ACTIVE, UserState.INACTIVE, UserState.PENDING):
            yield from self._iter_status(status, size)

    def _iter_status(self, status: UserState, size: int) -> Iterator[VendorUser]:
        # Keys already yielded, so that a restart after an expired
        # next_page_token does not report a user twice.
        seen: set[str] = set()
        restarts = 0
        page_token = ""
        while True:
            params: dict[str, str | int] = {"status": status.value, "page_size": size}
            if page_token:
                params["next_page_token"] = page_token
            fetch = functools.partial(self._request, Op.LIST, "GET", "/users", params=params)
            reply = page_with_retries(fetch, self._sleep)
            if isinstance(reply, Rejected) and zoom_payloads.is_expired_page_token(reply):
                restarts += 1
                if restarts > LIST_RESTARTS:
                    raise ListingFailed(reply)
                page_token = ""
                continue
            if not isinstance(reply, Reply):
                raise ListingFailed(reply)
            try:
                body = req_dict(reply.body, "user list")
                users = [
                    zoom_payloads.user(req_dict(u, "user"), status) for u in req_list(body, "users")
                ]
                page_token = opt_str(body, "next_page_token")
            except ContractError as exc:
                failure = contract_failure(
                    Op.LIST, VENDOR, str(exc), reply.tracking_id, reply.status
                )
                raise ListingFailed(failure) from exc
            for user in users:
                key = user.vendor_id or user.email.lower()
                if key not in seen:
                    seen.add(key)
                    yield user
            if not page_token:
                return

    def reinvite(self, user: VendorUser) -> Outcome:
        # Zoom has no resend: remove the pending user and invite it again, with the
        # names, address and licence of ``user`` (complete it first if it is partial).
        if user.state is not UserState.PENDING:
            return Rejected(reason="the user already activated; there is no invitation to resend")
        if not user.email:
            return Rejected(reason="the pending user's address is unknown: nothing to invite")
        target = quote(user.vendor_id or user.email, safe="@")
        removed = self._write(Op.DELETE, "DELETE", f"/users/{target}?action=disassociate")
        if not isinstance(removed, Ok | NotFound):  # NotFound: the invite already expired
            return removed
        spec = UserSpec(
            email=user.email,
            first_name=user.first_name,
            last_name=user.last_name,
            display_name=user.display_name,
            licensed=user.licensed,
        )
        return self.create_user(spec)

    def update_profile(
        self,
        vendor_id: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        display_name: str | None = None,
    ) -> Outcome:
        # Zoom answers 204 for a pending user but keeps the old names
        # (Capabilities.profile_update_when_pending).
        names = {"first_name": first_name, "last_name": last_name, "display_name": display_name}
        body = {key: value for key, value in names.items() if value is not None}
        if not body:
            return Ok()
        return self._write(Op.UPDATE, "PATCH", f"/users/{quote(vendor_id, safe='@')}", json=body)

    def set_licence(self, vendor_id: str, licensed: bool) -> Outcome:
        body = {"type": zoom_payloads.LICENSED if licensed else zoom_payloads.BASIC}
        return self._write(Op.LICENCE, "PATCH", f"/users/{quote(vendor_id, safe='@')}", json=body)

    def deactivate(self, vendor_id: str) -> Outcome:
        path = f"/users/{quote(vendor_id, safe='@')}/status"
        return self._write(Op.DEACTIVATE, "PUT", path, json={"action": "deactivate"})

    def reactivate(self, vendor_id: str) -> Outcome:
        """``PUT /users/{id}/status {"action": "activate"}``, then the licence again:
        deactivating removed it (``Capabilities.deactivate_keeps_licence``)."""
        found = self.get_user(vendor_id)
        if not isinstance(found, Ok) or found.user is None:
            return found
        user = found.user
        if user.state is UserState.PENDING:
            # Zoom refuses status changes of a pending user (code 1000).
            return Rejected(reason="the user never activated its account: nothing to reactivate")
        last: Outcome = found
        if user.state is UserState.INACTIVE:
            path = f"/users/{quote(vendor_id, safe='@')}/status"
            last = self._write(Op.REACTIVATE, "PUT", path, json={"action": "activate"})
            if not isinstance(last, Ok):
                return last
        if not user.licensed or user.state is UserState.INACTIVE:
            # Also when the deactivated record still said licensed: the activation
            # itself does not give the licence back.
            last = self.set_licence(vendor_id, True)
            if not isinstance(last, Ok):
                return last
        return Ok(
            user=replace(user, state=UserState.ACTIVE, licensed=True),
            tracking_id=last.tracking_id,
            http_status=last.http_status,
        )

    def delete(self, vendor_id: str) -> Outcome:
        # A pending user can only be removed with action=disassociate, so look first.
        found = self.get_user(vendor_id)
        if not isinstance(found, Ok) or found.user is None:
            return found
        action = "disassociate" if found.user.state is UserState.PENDING else self._delete_action
        return self._write(
            Op.DELETE, "DELETE", f"/users/{quote(vendor_id, safe='@')}?action={action}"
        )
