"""Every page, in both languages, at phone and laptop widths, checked by axe-core.

WCAG 2.2 AA is the bar (docs/accessibility.md): zero violations of any impact, for the
rules axe runs by default. The pages come from the URL resolver, so a new page is
checked as soon as it exists, or named in ``NOT_PAGES`` with the reason.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.fixtures.axe import violations
from tests.fixtures.browser import shot
from tests.security.test_authorization_matrix import EXPECTED, routes, url_of, world  # noqa: F401
from tests.signin.browser_session import sign_in_browser_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIDEWAYS = "document.documentElement.scrollWidth > window.innerWidth + 1"
WIDTHS = {"phone": (390, 844), "laptop": (1280, 800)}

# Who looks at each page. Confirmation pages of staff actions (a GET before the POST)
# are pages too.
ANONYMOUS = ("home", "portal:help", "signin:signin", "backoffice:login")
MEMBER = ("portal:my_services", "portal:inquiries", "portal:inquiry_new", "portal:inquiry_detail")
STAFF = (
    "backoffice:home",
    "backoffice:service",
    "backoffice:licence_terms",
    "backoffice:search",
    "backoffice:account_list",
    "backoffice:account",
    "backoffice:account_remedy",
    "backoffice:apply_on_behalf",
    "backoffice:service_retry_failed",
    "backoffice:campaign_retry_failed",
    "backoffice:held_pass",
    "backoffice:campaigns",
    "backoffice:campaign_new",
    "backoffice:campaign",
    "backoffice:inquiries",
    "backoffice:inquiry",
    "backoffice:tokens",
    "backoffice:directory_roster",
    "backoffice:directory_pending",
    "backoffice:directory_scim",
    "backoffice:directory_scim_holds",
    "backoffice:rehearsal",
    "audit:log",
)
# Pages that show something only for a query (the others answer 404 without one).
QUERY = {"backoffice:account_list": "?filter=needs_person"}
# Saved as screenshots on every run, to be looked at: the staff tables stacked on a phone.
LOOKED_AT = ("backoffice:search", "backoffice:campaigns", "backoffice:inquiries", "audit:log")
NOT_PAGES = {
    "healthz": "JSON for load balancers",
    "metrics": "Prometheus text",
    "favicon": "a redirect to the icon",
    "backoffice:export_accounts": "CSV",
    "backoffice:campaign_failures": "CSV",
    "audit:export": "CSV",
    "backoffice:campaign_preview_csv": "CSV",
    "portal:card": "one card of /my/, which htmx swaps in; checked within /my/",
    "backoffice:campaign_progress": "a fragment the campaign page reloads; checked within it",
    "backoffice:api_openapi": "the API's JSON description",
    "backoffice:rehearsal_run": "needs a run on disk: axe checks a real run's page, both "
    "languages, in tests/backoffice/test_rehearsal_browser.py",
    "scim": "SCIM JSON",
    "scim-root": "SCIM JSON",
    "admin:*": "Django's own admin, for the break-glass superuser only (docs/signin.md)",
    "admin:login": "a redirect to the staff sign-in",
    "signin:refused": "403, shown by the sign-in tests",
    "signin:dev_login": "development only; off in the suite's settings",
    "oidc_authentication_init": "a redirect to the identity provider",
    "oidc_authentication_callback": "the identity provider's redirect back; the sign-in tests",
    "saml2_login": "a redirect to the identity provider",
    "saml2_metadata": "SAML metadata XML",
}


def test_every_page_is_checked_or_said_why_not():
    gets = {name for name, (method, _) in EXPECTED.items() if method == "GET"}
    gets -= {name for name in gets if name.startswith("backoffice:api_")}
    confirm_pages = set(STAFF) - gets  # POST routes whose GET is a confirmation page
    assert gets - set(ANONYMOUS + MEMBER + STAFF) - set(NOT_PAGES) == set()
    assert confirm_pages <= set(routes())


# A page's markup does not depend on the database: the SQLite pass checks them all.
@pytest.mark.once
@pytest.mark.parametrize("language", ["ja", "en"])
@pytest.mark.parametrize("width", sorted(WIDTHS))
def test_no_page_has_an_axe_violation(browser, live_server, world, language, width):  # noqa: F811
    paths = routes()
    found: dict[str, list[str]] = {}
    for role, names in (("anonymous", ANONYMOUS), ("member", MEMBER), ("staff", STAFF)):
        w, h = WIDTHS[width]
        context = browser.new_context(viewport={"width": w, "height": h})
        context.add_cookies(
            [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
        )
        page = context.new_page()
        page.set_default_timeout(30_000)
        if role != "anonymous":
            sign_in_browser_as(page, live_server.url, world["users"][role])
        for name in names:
            url = live_server.url + url_of(name, paths[name], world["args"]) + QUERY.get(name, "")
            page.goto(url)
            assert page.locator("html").get_attribute("lang") == language, url
            problems = violations(page)
            if width == "phone" and page.evaluate(SIDEWAYS):
                problems.append("the page scrolls sideways on a phone")
            if problems:
                found[f"{name} {url}"] = problems
            if problems or name in LOOKED_AT:
                shot(page, f"axe-{width}-{language}-{name}")
        context.close()
    assert found == {}, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in found.items())
