"""What a member does on the vendors' own pages, over HTTP, as a browser would.

Each function follows one link from a mail (or the sign-in page) and answers what the
page that opens shows: "done", "expired" (the link is dead: 410), "no_user" (Zoom's
"User does not exist", S15) or "error" with the page's status.
"""

from __future__ import annotations

import re
import ssl

import httpx

_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PASSWORD = "Rehearse2026"  # noqa: S105 - the simulated members' password at the sandbox
TIMEOUT = 30
# Each member's browser is a client of its own (its own cookies); they share one TLS
# context, which costs more to make than a page costs to fetch.
_TLS = ssl.create_default_context()


def _browser() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=TIMEOUT, verify=_TLS)


def _outcome(response: httpx.Response) -> str:
    if response.status_code == 410:
        return "expired"
    if response.status_code == 404 and "User does not exist" in response.text:
        return "no_user"
    return "done" if response.status_code < 400 else f"error {response.status_code}"


def _submit(client: httpx.Client, url: str, form: dict[str, str]) -> httpx.Response:
    """GET the page, then POST ``form`` with its CSRF token; the GET's answer if it
    already says the link cannot be used."""
    page = client.get(url)
    if page.status_code >= 400:
        return page
    match = _CSRF.search(page.text)
    token = {"csrfmiddlewaretoken": match.group(1)} if match else {}
    return client.post(url, data={**token, **form})


def webex_activate(url: str) -> str:
    with _browser() as client:
        return _outcome(_submit(client, url, {"password": PASSWORD, "confirm": PASSWORD}))


def webex_convert(url: str, address: str, base: str) -> str:
    """ "Review" → "Convert account"; then, as the card says, "Forgot password" (the
    conversion sets none), whose mail the member follows later."""
    with _browser() as client:
        outcome = _outcome(_submit(client, url, {}))
        if outcome == "done":
            _submit(client, f"{base}/webex/forgot?email={address}", {"email": address})
        return outcome


def webex_reset(url: str) -> str:
    return webex_activate(url)


def zoom_activate(url: str, *, google: bool) -> str:
    with _browser() as client:
        if google:
            return _outcome(_submit(client, url, {"action": "google"}))
        form = {
            "action": "signup",
            "first_name": "Rehearsal",
            "last_name": "Member",
            "password": PASSWORD,
            "confirm": PASSWORD,
        }
        return _outcome(_submit(client, f"{url}?method=password", form))


def zoom_join(url: str) -> str:
    with _browser() as client:
        first = _submit(client, url, {"action": "approve"})
        if first.status_code >= 400:
            return _outcome(first)
        return _outcome(_submit(client, url, {"action": "switch"}))


def webex_change_address(base: str, address: str, new_address: str) -> str:
    """Sign in to Webex and change the address on the profile page (S9)."""
    with _browser() as client:
        signed = _submit(client, f"{base}/webex/signin", {"email": address, "password": PASSWORD})
        if signed.status_code >= 400:
            return _outcome(signed)
        form = {
            "display_name": "Rehearsal Member",
            "first_name": "Rehearsal",
            "last_name": "Member",
            "email": new_address,
        }
        return _outcome(_submit(client, f"{base}/webex/profile", form))
