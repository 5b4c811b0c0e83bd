"""One vendor token per service (Errata Z-a, W-h): shared through a store, renewed by one
caller at a time, read again after a 401 before a new one is asked for."""

from __future__ import annotations

import json
import threading
from urllib.parse import parse_qsl, urlsplit

from campusconf.connectors import AuthProblem, NotAuthorised, Ok, UserSpec
from campusconf.connectors.tokens import MemoryTokenStore, Token
from campusconf.connectors.transport.http_client import Request, Response
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from campusconf.connectors.zoom import ZoomConnector, ZoomCredentials
from tests.connectors.scripted import reply

SPEC = UserSpec("1234567890@g.ecc.example.ac.jp", "Taro", "Yamada", "Taro Yamada")
USER = {"id": "u1", "email": SPEC.email, "status": "active", "type": 2}
INVALID = {"code": 124, "message": "Invalid access token."}


class ZoomLike:
    """Zoom as its forum threads describe it: a new token knocks out every earlier one."""

    def __init__(self, scope: str = "user:read:admin user:write:admin") -> None:
        self.issued = 0
        self.scope = scope
        self.sent: list[str] = []  # "METHOD path token"
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Response:
        url = urlsplit(request.url)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        with self.lock:
            self.sent.append(f"{request.method} {url.path} {token}")
            if url.path == "/oauth/token":
                assert dict(parse_qsl(url.query))["grant_type"] == "account_credentials"
                self.issued += 1
                body = {"access_token": f"tok-{self.issued}", "expires_in": 3600}
                return reply(200, {**body, "token_type": "bearer", "scope": self.scope})
            if token != f"tok-{self.issued}":
                return reply(401, INVALID)
        return reply(200, USER)

    def outsider_asks_for_a_token(self) -> None:
        with self.lock:
            self.issued += 1


def zoom(server: ZoomLike, store: MemoryTokenStore, app_key: str = "k1") -> ZoomConnector:
    return ZoomConnector(
        ZoomCredentials("acct", "cid", app_key),
        base_url="https://api.zoom.test/v2",
        oauth_base_url="https://zoom.test",
        transport=server,
        token_store=store,
        sleep=lambda _s: None,
    )


def fetches(server: ZoomLike) -> int:
    return sum(1 for line in server.sent if "/oauth/token" in line)


def test_processes_sharing_the_store_share_one_token():
    server, store = ZoomLike(), MemoryTokenStore()
    first, second = zoom(server, store), zoom(server, store)
    assert isinstance(first.get_user("u1"), Ok)
    assert isinstance(second.get_user("u1"), Ok)
    assert fetches(server) == 1


def test_after_a_401_the_store_is_read_again_before_a_new_token_is_asked_for():
    server, store = ZoomLike(), MemoryTokenStore()
    first, second = zoom(server, store), zoom(server, store)
    assert isinstance(first.get_user("u1"), Ok)
    assert isinstance(second.get_user("u1"), Ok)
    # The second process renews (say its token neared expiry): Zoom knocks out tok-1,
    # which the first still holds in memory.
    second.tokens.renew_now()
    assert fetches(server) == 2
    assert isinstance(first.get_user("u1"), Ok)
    # The first was refused once, found tok-2 in the store and used it: no third token,
    # which would have knocked the second process out in turn.
    assert fetches(server) == 2
    assert server.sent[-2:] == ["GET /v2/users/u1 tok-1", "GET /v2/users/u1 tok-2"]


def test_a_token_knocked_out_from_outside_is_renewed_once():
    server, store = ZoomLike(), MemoryTokenStore()
    connector = zoom(server, store)
    assert isinstance(connector.get_user("u1"), Ok)
    server.outsider_asks_for_a_token()  # someone else used the app's credentials
    assert isinstance(connector.get_user("u1"), Ok)
    assert fetches(server) == 2
    assert store.load() is not None and store.load().access_token == "tok-3"


def test_threads_of_one_process_renew_once():
    server, store = ZoomLike(), MemoryTokenStore()
    connector = zoom(server, store)
    outcomes: list[object] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(connector.get_user("u1"))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(isinstance(o, Ok) for o in outcomes) and len(outcomes) == 8
    assert fetches(server) == 1


def test_a_token_of_another_credential_is_never_used():
    server, store = ZoomLike(), MemoryTokenStore()
    assert isinstance(zoom(server, store, app_key="old").get_user("u1"), Ok)
    # The secret was rotated: what the old one got is not this credential's token.
    assert isinstance(zoom(server, store, app_key="new").get_user("u1"), Ok)
    assert fetches(server) == 2


def test_a_missing_scope_is_a_permission_problem_and_asks_for_no_token():
    refusal = {
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[user:write:user:admin, "
        "user:write:admin].",
    }

    class NoWrite(ZoomLike):
        def __call__(self, request: Request) -> Response:
            answer = super().__call__(request)
            if request.method == "POST" and "/oauth/" not in request.url:
                return reply(400, refusal)
            return answer

    server = NoWrite()
    outcome = zoom(server, MemoryTokenStore()).create_user(SPEC)
    assert isinstance(outcome, NotAuthorised)
    assert outcome.problem is AuthProblem.PERMISSION and outcome.vendor_code == "4711"
    assert outcome.missing_scopes == ("user:write:user:admin", "user:write:admin")
    assert fetches(server) == 1  # a new token would lack the scope just the same


def test_refused_app_credentials_are_a_credential_problem():
    def refuse(request: Request) -> Response:
        body = {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
        return reply(401, body)

    connector = ZoomConnector(
        ZoomCredentials("acct", "cid", "wrong"),
        base_url="https://api.zoom.test/v2",
        oauth_base_url="https://zoom.test",
        transport=refuse,
    )
    outcome = connector.get_user("u1")
    assert isinstance(outcome, NotAuthorised) and outcome.problem is AuthProblem.CREDENTIAL
    assert "Invalid client_id or client_secret" in outcome.reason and outcome.http_status == 401


def test_secrets_stay_out_of_reprs():
    token = Token("access-secret", 1.0, "refresh-secret")
    creds = ZoomCredentials("acct", "cid", "client-secret")
    webex = WebexCredentials("w-access", "w-refresh", "cid", "w-secret")
    for text in (repr(token), repr(creds), repr(webex)):
        assert "secret" not in text.replace("client_secret", "").replace("refresh_token", "")
    assert "access-secret" not in repr(token) and "w-access" not in repr(webex)


# --- Webex: the latest refresh token is the store's, not the environment's -------------

BASE = "https://webex.test/v1"


class WebexLike:
    def __init__(self) -> None:
        self.renewals: list[str] = []  # the refresh tokens presented
        self.current = "tok-1"

    def __call__(self, request: Request) -> Response:
        path = urlsplit(request.url).path
        if path == "/v1/access_token":
            form = dict(parse_qsl((request.content or b"").decode()))
            self.renewals.append(form["refresh_token"])
            n = len(self.renewals) + 1
            self.current = f"tok-{n}"
            body = {
                "access_token": self.current,
                "expires_in": 1209600,
                "refresh_token": f"ref-{n}",
                "refresh_token_expires_in": 7776000,
            }
            return reply(200, body)
        if request.headers.get("Authorization") != f"Bearer {self.current}":
            return reply(401, {"message": "Unauthorized", "errors": [], "trackingId": "T"})
        if path == "/v1/licenses":
            return reply(200, {"items": [{"id": "LIC", "name": "Meeting"}]})
        return reply(
            200,
            {
                "id": "P1",
                "emails": [SPEC.email],
                "displayName": "T",
                "invitePending": "false",
                "loginEnabled": "true",
            },
        )


def webex(server: WebexLike, store: MemoryTokenStore, clock: list[float]) -> WebexConnector:
    seed = WebexCredentials("tok-1", "ref-1", "cid", "secret", expires_at=clock[0] + 10_000)
    return WebexConnector(
        seed, base_url=BASE, transport=server, token_store=store, clock=lambda: clock[0]
    )


def test_webex_renews_with_the_latest_refresh_token_whoever_stored_it():
    server, store, clock = WebexLike(), MemoryTokenStore(), [1_000_000.0]
    first, second = webex(server, store, clock), webex(server, store, clock)
    assert isinstance(first.get_user("P1"), Ok)
    clock[0] += 10_000  # the seed's access token expires: the first process renews
    assert isinstance(first.get_user("P1"), Ok)
    clock[0] += 1_209_600  # and that one too: the second process renews, with ref-2
    assert isinstance(second.get_user("P1"), Ok)
    assert server.renewals == ["ref-1", "ref-2"]
    stored = store.load()
    assert stored is not None and stored.refresh_token == "ref-3"
    assert stored.refresh_expires_at == clock[0] + 7776000


def test_an_expired_refresh_token_is_a_credential_problem_without_a_call():
    server, store, clock = WebexLike(), MemoryTokenStore(), [1_000_000.0]
    connector = webex(server, store, clock)
    assert isinstance(connector.get_user("P1"), Ok)
    clock[0] += 10_000
    assert isinstance(connector.get_user("P1"), Ok)  # renewed: the refresh token's 90 days
    clock[0] += 7776000 + 1
    outcome = connector.get_user("P1")
    assert isinstance(outcome, NotAuthorised) and outcome.problem is AuthProblem.CREDENTIAL
    assert "authorised again" in outcome.reason
    assert server.renewals == ["ref-1"]


def test_a_webex_403_names_the_scope_the_call_needs():
    def forbid(request: Request) -> Response:
        if request.method == "GET":
            return WebexLike()(request)
        body = {"message": "Forbidden", "errors": [{"description": "Forbidden"}]}
        return reply(403, body, {"trackingid": "ROUTER_F"})

    connector = WebexConnector(WebexCredentials("tok-1"), base_url=BASE, transport=forbid)
    outcome = connector.create_user(SPEC)
    assert isinstance(outcome, NotAuthorised) and outcome.problem is AuthProblem.PERMISSION
    assert outcome.missing_scopes == ("spark-admin:people_write",)
    assert outcome.tracking_id == "ROUTER_F"
    assert json.dumps(outcome.reason).count("people_write") == 1
