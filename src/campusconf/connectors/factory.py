"""Build a connector from a service's settings and the secrets the caller read.

Settings are plain strings (base URLs, licence names) kept with the service.
Secrets are values the caller read from the environment variables the
service's settings name; they are never stored in the database.
"""

from __future__ import annotations

from collections.abc import Mapping

from campusconf.connectors.base import Connector
from campusconf.connectors.http_helpers import Pacer
from campusconf.connectors.tokens import TokenStore
from campusconf.connectors.transport import http_client
from campusconf.connectors.webex import WebexConnector, WebexCredentials
from campusconf.connectors.zoom import ZoomConnector, ZoomCredentials

KINDS = ("webex", "zoom", "scim")


class ConnectorConfigError(ValueError):
    """A setting or secret a connector needs is missing or malformed.

    ``key`` names it as the factory knows it (``client_secret``); ``kind`` says whether
    it is a "setting" or a "secret", so a caller can say where it comes from.
    """

    def __init__(self, message: str, *, key: str = "", kind: str = "") -> None:
        super().__init__(message)
        self.key, self.kind = key, kind


def _need(values: Mapping[str, str], key: str, where: str) -> str:
    value = values.get(key, "")
    if not value:
        raise ConnectorConfigError(f"{where} {key!r} is missing", key=key, kind=where)
    return value


def build_connector(
    kind: str,
    settings: Mapping[str, str],
    secrets: Mapping[str, str],
    *,
    pacer: Pacer | None = None,
    timeout: float | None = None,
    token_store: TokenStore | None = None,
) -> Connector:
    """A connector for `kind` ("webex", "zoom" or "scim").

    `pacer` is called before every request with the operation's name (the engine's
    shared rate limiter and lease heartbeat); `timeout` (seconds) replaces the
    connectors' default time-outs, so tests and benches can make a time-out cheap.
    `token_store` is where the service's vendor token lives, shared by every process
    (Webex and Zoom; without one, the connector keeps its token in memory).

    webex: settings base_url, licence_id or licence_name; secrets access_token,
        and for renewal refresh_token, client_id, client_secret, expires_at (Unix time).
    zoom: settings base_url, oauth_base_url, delete_action; secrets account_id,
        client_id, client_secret.
    scim: settings base_url (required), profile (generic, webex or zoom: the vendor's
        SCIM API), licence_entitlement (generic), licence_id or licence_name and
        people_base_url (webex); secrets token.
    """
    limit = (
        http_client.DEFAULT_TIMEOUT if timeout is None else http_client.Timeout(timeout, timeout)
    )
    if kind == "webex":
        expires = secrets.get("expires_at", "")
        try:
            expires_at = float(expires) if expires else None
        except ValueError as exc:
            raise ConnectorConfigError(
                f"secret 'expires_at' is not a Unix time: {expires!r}",
                key="expires_at",
                kind="secret",
            ) from exc
        credentials = WebexCredentials(
            access_token=_need(secrets, "access_token", "secret"),
            refresh_token=secrets.get("refresh_token", ""),
            client_id=secrets.get("client_id", ""),
            client_secret=secrets.get("client_secret", ""),
            expires_at=expires_at,
        )
        return WebexConnector(
            credentials,
            base_url=settings.get("base_url") or "https://webexapis.com/v1",
            licence_id=settings.get("licence_id", ""),
            licence_name=settings.get("licence_name", ""),
            pacer=pacer,
            timeout=limit,
            token_store=token_store,
        )
    if kind == "zoom":
        action = settings.get("delete_action") or "delete"
        if action not in ("delete", "disassociate"):
            raise ConnectorConfigError(
                f"setting 'delete_action' must be delete or disassociate, not {action!r}",
                key="delete_action",
                kind="setting",
            )
        return ZoomConnector(
            ZoomCredentials(
                account_id=_need(secrets, "account_id", "secret"),
                client_id=_need(secrets, "client_id", "secret"),
                client_secret=_need(secrets, "client_secret", "secret"),
            ),
            base_url=settings.get("base_url") or "https://api.zoom.us/v2",
            oauth_base_url=settings.get("oauth_base_url") or "https://zoom.us",
            delete_action="disassociate" if action == "disassociate" else "delete",
            pacer=pacer,
            timeout=limit,
            token_store=token_store,
        )
    if kind == "scim":
        # Imported here: the SCIM libraries (pydantic models) take a second to import,
        # which every worker start and every command paid, and most services are not SCIM.
        import httpx

        from campusconf.connectors import scim, scim_transport
        from campusconf.connectors.scim_profiles import PROFILES

        profile = settings.get("profile") or "generic"
        if profile not in PROFILES:
            raise ConnectorConfigError(
                f"setting 'profile' must be one of {sorted(PROFILES)}, not {profile!r}"
            )
        return scim.ScimConnector(
            _need(settings, "base_url", "setting"),
            _need(secrets, "token", "secret"),
            profile=profile,
            licence_entitlement=settings.get("licence_entitlement") or "licensed",
            licence_id=settings.get("licence_id", ""),
            licence_name=settings.get("licence_name", ""),
            people_base_url=settings.get("people_base_url", ""),
            pacer=pacer,
            timeout=scim_transport.DEFAULT_TIMEOUT
            if timeout is None
            else httpx.Timeout(float(timeout)),
        )
    raise ConnectorConfigError(
        f"unknown connector kind {kind!r}; expected one of {KINDS}", key="kind", kind="setting"
    )
