"""A real OpenID provider (oidc-provider-mock) on 127.0.0.1, and the settings pointing at it."""

import contextlib
from collections.abc import Iterator

from oidc_provider_mock import User, run_server_in_thread


@contextlib.contextmanager
def provider(users: list[User]) -> Iterator[str]:
    # require_nonce: the provider refuses requests without one, as a strict IdP would.
    with run_server_in_thread(require_nonce=True, user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def settings_for(base: str) -> dict[str, object]:
    return {
        "OIDC_RP_CLIENT_ID": "campusconf-test",
        "OIDC_RP_CLIENT_SECRET": "not-a-secret",
        "OIDC_RP_SIGN_ALGO": "RS256",
        "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{base}/oauth2/authorize",
        "OIDC_OP_TOKEN_ENDPOINT": f"{base}/oauth2/token",
        "OIDC_OP_USER_ENDPOINT": f"{base}/userinfo",
        "OIDC_OP_JWKS_ENDPOINT": f"{base}/jwks",
        "OIDC_OP_ISSUER": base,  # what the mock writes into "iss"
        "CAMPUSCONF_SIGNIN_SCOPES": ["utac.example.ac.jp"],
        "CAMPUSCONF_OIDC_COMMON_ID_CLAIM": "preferred_username",
        # The mock publishes one key without a "kid"; real providers name theirs.
        "OIDC_VERIFY_KID": False,
    }
