"""Variants: documented behaviour by default, the reported one when switched on."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fixtures.sandbox import start_sandbox
from vendor_sandbox import variants
from vendor_sandbox.launcher import Sandbox


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    env = {"SANDBOX_LIMITS": "on", "SANDBOX_ZOOM_DAILY_CREATE_LIMIT": "2"}
    with start_sandbox(Path(tmp_path_factory.mktemp("capped")), env=env) as server:
        yield server


def _create_until_capped(server: Sandbox, prefix: str) -> httpx.Response:
    with server.zoom() as z:
        for i in range(3):
            info = {"email": f"{prefix}{i}@example.ac.jp", "type": 1}
            resp = z.post("/users", json={"action": "create", "user_info": info})
            time.sleep(0.1)
    return resp


def test_the_default_is_the_documented_choice(sandbox: Sandbox) -> None:
    answer = sandbox.admin_response("GET", "variants").json()
    assert answer == {name: v.choices[0] for name, v in variants.VARIANTS.items()}
    assert answer["zoom_daily_cap_headers"] == "documented"


def test_unknown_names_and_choices_are_refused_and_change_nothing(
    sandbox: Sandbox,
) -> None:
    before = sandbox.admin_response("GET", "variants").json()
    bad_name = sandbox.admin_response("PUT", "variants", json={"no_such_variant": "x"})
    bad_choice = sandbox.admin_response("PUT", "variants", json={"zoom_daily_cap_headers": "maybe"})
    assert (bad_name.status_code, bad_choice.status_code) == (400, 400)
    assert "unknown variant: no_such_variant" in bad_name.json()["error"]
    assert "documented, absent" in bad_choice.json()["error"]
    assert sandbox.admin_response("GET", "variants").json() == before


def test_reset_and_delete_bring_the_defaults_back(sandbox: Sandbox) -> None:
    assert sandbox.set_variants(zoom_daily_cap_headers="absent")["zoom_daily_cap_headers"] == (
        "absent"
    )
    assert (
        sandbox.admin_response("DELETE", "variants").json()["zoom_daily_cap_headers"]
        == "documented"
    )
    sandbox.set_variants(zoom_daily_cap_headers="absent")
    sandbox.reset()
    assert (
        sandbox.admin_response("GET", "variants").json()["zoom_daily_cap_headers"] == "documented"
    )


def test_the_daily_cap_answers_with_its_headers_by_default(capped: Sandbox) -> None:
    capped.reset()
    resp = _create_until_capped(capped, "documented")
    assert resp.status_code == 429
    assert resp.headers["X-RateLimit-Type"] == "Daily-limit"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT00:00:00Z", resp.headers["Retry-After"])


def test_the_daily_cap_without_headers_when_switched(capped: Sandbox) -> None:
    capped.reset()
    capped.set_variants(zoom_daily_cap_headers="absent")
    resp = _create_until_capped(capped, "absent")
    assert resp.status_code == 429
    assert "Retry-After" not in resp.headers
    assert "X-RateLimit-Type" not in resp.headers
    assert resp.json()["message"].startswith("You have exceeded the daily rate limit")


def test_the_admin_page_switches_a_variant(sandbox: Sandbox) -> None:
    with httpx.Client(base_url=sandbox.url, follow_redirects=False) as browser:
        page = browser.get("/_admin/page")
        assert "zoom_daily_cap_headers" in page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token
        form = {
            "csrfmiddlewaretoken": token.group(1),
            "name": "zoom_daily_cap_headers",
            "choice": "absent",
        }
        no_token = browser.post(
            "/_admin/page", data={k: v for k, v in form.items() if k != "csrfmiddlewaretoken"}
        )
        assert no_token.status_code == 403
        done = browser.post("/_admin/page", data=form)
        assert done.status_code == 302
    assert sandbox.admin_response("GET", "variants").json()["zoom_daily_cap_headers"] == "absent"


def test_every_combination_of_one_starts_with_the_defaults() -> None:
    combos = variants.every_combination_of_one()
    assert combos[0] == variants.DEFAULTS
    assert {"zoom_daily_cap_headers": "absent"} in [
        {k: v for k, v in c.items() if v != variants.DEFAULTS[k]} for c in combos
    ]
