"""Every route × every role, each answer written down by hand (``EXPECTED``).

The routes come from the URL resolver, so a route added without a line in the table
fails ``test_every_route_has_an_expected_answer``: whoever adds one decides, here, who
may call it. Each route is called the way that matters — GET for pages and reads, POST
for writes — by eight callers: nobody, a member, another member (the objects in the URL
are the first member's), a staff member's session, a staff API token, an API token of
a member (no staff rights), a SCIM token, and a revoked token. No session rides along
with a token.

The Django admin is one line: every admin URL goes through its ``admin_view``, open to
superusers only (``campusconf.backoffice.admin_site``); ``admin:login`` is its door.
"""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from campusconf.accounts.lifecycle import open_account
from campusconf.accounts.states import Cause
from campusconf.backoffice.tokens import issue_token, revoke_token
from campusconf.directory.tokens import create_scim_client, revoke_scim_client

ROLES = (
    "anonymous",
    "member",
    "other_member",
    "member_token",
    "scim_token",
    "revoked_token",
    "staff_token",
    "staff",
)

# Answers: a status, or a redirect to a sign-in page.
STAFF_LOGIN, SIGNIN, ADMIN_LOGIN = "302→staff-login", "302→signin", "302→admin-login"
# A staff page: sign in first; a member (session) is refused; a token is no session.
STAFF_PAGE = (STAFF_LOGIN, 403, 403, STAFF_LOGIN, STAFF_LOGIN, STAFF_LOGIN, STAFF_LOGIN, 200)
STAFF_WRITE = (*STAFF_PAGE[:-1], 302)  # done, back to the page
STAFF_FORM = STAFF_PAGE  # a form: the reason alone is not enough, shown again (200)
# The staff API: tokens only; a member's token has no staff rights.
API_READ = (401, 401, 401, 403, 401, 401, 200, 401)
API_WRITE = (401, 401, 401, 403, 401, 401, 200, 401)
# The member portal: members only, each with their own data.
MY_PAGE = (SIGNIN, 200, 200, SIGNIN, SIGNIN, SIGNIN, SIGNIN, SIGNIN)
MY_OBJECT = (SIGNIN, 200, 404, SIGNIN, SIGNIN, SIGNIN, SIGNIN, SIGNIN)
MY_WRITE = (SIGNIN, 302, 302, SIGNIN, SIGNIN, SIGNIN, SIGNIN, SIGNIN)
OPEN = (200,) * 8


def everyone(status: int | str) -> tuple[int | str, ...]:
    return (status,) * 8


EXPECTED: dict[str, tuple[str, tuple[int | str, ...]]] = {
    # Public pages and machine endpoints
    "home": ("GET", OPEN),
    "healthz": ("GET", OPEN),
    "favicon": ("GET", everyone(302)),
    "set_language": ("POST", everyone(302)),
    "portal:help": ("GET", OPEN),
    # Metrics (closed, as in production): staff in a browser, or the scraper's own token
    "metrics": ("GET", (401, 401, 401, 401, 401, 401, 401, 200)),
    # Signed webhooks: no session or token counts; this body has no timestamp
    "zoom-webhook": ("POST", everyone(400)),
    # SCIM: its own tokens only; a revoked one is refused
    "scim-root": ("GET", (401, 401, 401, 401, 200, 401, 401, 401)),
    "scim": ("GET", (401, 401, 401, 401, 200, 401, 401, 401)),
    # Sign-in: open doors; SAML and OIDC are off without their settings, dev login too
    "signin:signin": ("GET", OPEN),
    "signin:refused": ("GET", everyone(403)),
    "signin:signout": ("POST", everyone(302)),
    "signin:dev_login": ("GET", everyone(404)),
    "oidc_authentication_init": ("GET", everyone(404)),
    "oidc_authentication_callback": ("GET", everyone(404)),
    "saml2_login": ("GET", everyone(404)),
    "saml2_acs": ("POST", everyone(404)),
    "saml2_metadata": ("GET", everyone(404)),
    # The member portal
    "portal:my_services": ("GET", MY_PAGE),
    # A card's own refresh: the member's card (the other member's is "apply", their own).
    "portal:card": ("GET", MY_PAGE),
    "portal:apply": ("POST", MY_WRITE),
    # The other member has no account at this service: nothing of theirs to resend.
    "portal:resend": ("POST", (SIGNIN, 302, 404, *MY_WRITE[3:])),
    # The member's own account at the service: the other member has none there (404).
    "portal:chose_google": ("POST", (SIGNIN, 302, 404, *MY_WRITE[3:])),
    "portal:released": ("POST", (SIGNIN, 302, 404, *MY_WRITE[3:])),
    "portal:leave_queue": ("POST", MY_WRITE),
    "portal:inquiries": ("GET", MY_PAGE),
    "portal:inquiry_new": ("GET", MY_PAGE),
    "portal:inquiry_detail": ("GET", MY_OBJECT),
    # Django admin: superusers only, staff included in the refusal
    # Its password door is the back office's, with the one-time code (docs/signin.md).
    "admin:login": ("GET", everyone(STAFF_LOGIN)),
    "admin:*": ("GET", everyone(ADMIN_LOGIN)),
    # The back office
    "backoffice:login": ("GET", OPEN),
    "backoffice:logout": ("POST", everyone(STAFF_LOGIN)),
    "backoffice:home": ("GET", STAFF_PAGE),
    "backoffice:service": ("GET", STAFF_PAGE),
    "backoffice:licence_terms": ("POST", STAFF_FORM),
    "backoffice:export_accounts": ("GET", STAFF_PAGE),
    "backoffice:search": ("GET", STAFF_PAGE),
    # Without a named filter there is no list (staff get a 404).
    "backoffice:account_list": ("GET", (*STAFF_PAGE[:-1], 404)),
    "backoffice:account": ("GET", STAFF_PAGE),
    "backoffice:apply_on_behalf": ("POST", STAFF_WRITE),
    "backoffice:account_remedy": ("POST", STAFF_WRITE),
    "backoffice:service_retry_failed": ("POST", STAFF_WRITE),
    "backoffice:campaign_retry_failed": ("POST", STAFF_WRITE),
    "backoffice:held_pass": ("POST", STAFF_FORM),
    "backoffice:campaigns": ("GET", STAFF_PAGE),
    "backoffice:campaign_new": ("POST", STAFF_FORM),
    "backoffice:campaign": ("GET", STAFF_PAGE),
    "backoffice:campaign_progress": ("GET", STAFF_PAGE),
    "backoffice:campaign_failures": ("GET", STAFF_PAGE),
    # A preview is kept in its staff member's session; another key is not found.
    "backoffice:campaign_preview_csv": ("GET", (*STAFF_PAGE[:-1], 404)),
    "backoffice:campaign_action": ("POST", STAFF_WRITE),
    "backoffice:inquiries": ("GET", STAFF_PAGE),
    "backoffice:inquiry": ("GET", STAFF_PAGE),
    "backoffice:inquiry_reply": ("POST", STAFF_FORM),
    "backoffice:inquiry_status": ("POST", STAFF_FORM),
    "backoffice:tokens": ("POST", STAFF_FORM),
    "backoffice:token_revoke": ("POST", STAFF_WRITE),
    "backoffice:directory_roster": ("POST", STAFF_FORM),
    "backoffice:directory_pending": ("GET", STAFF_PAGE),
    "backoffice:directory_scim": ("POST", STAFF_FORM),
    "backoffice:directory_scim_revoke": ("POST", STAFF_WRITE),
    "backoffice:directory_scim_holds": ("POST", STAFF_WRITE),
    # The rehearsal (test settings: allowed); an empty form is shown again with its errors.
    "backoffice:rehearsal": ("POST", STAFF_FORM),
    # A run that does not exist: staff get a 404.
    "backoffice:rehearsal_run": ("GET", (*STAFF_PAGE[:-1], 404)),
    "audit:log": ("GET", STAFF_PAGE),
    "audit:export": ("GET", STAFF_PAGE),
    # The staff API (its description is open; any other address a JSON 404)
    "backoffice:api_openapi": ("GET", OPEN),
    "backoffice:api_not_found": ("GET", everyone(404)),
    "backoffice:api_accounts": ("GET", API_READ),
    "backoffice:api_account": ("GET", API_READ),
    "backoffice:api_account_action": ("POST", (*API_WRITE[:-2], 409, 401)),  # requested: no retry
    "backoffice:api_campaigns": ("GET", API_READ),
    "backoffice:api_campaign": ("GET", API_READ),
    "backoffice:api_campaign_action": ("POST", API_WRITE),
    "backoffice:api_inquiries": ("GET", API_READ),
    "backoffice:api_inquiry_reply": ("POST", (*API_WRITE[:-2], 400, 401)),  # needs a body
    "backoffice:api_inquiry_status": ("POST", (*API_WRITE[:-2], 400, 401)),  # and a status
}


def _walk(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            for route, name, converters in _walk(p.url_patterns, prefix + str(p.pattern)):
                yield route, (ns + name) if name else None, converters
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name, p.pattern.converters


def routes() -> dict[str, str]:
    """name → route of every URL the project answers, the admin's as one."""
    found = {}
    for route, name, _converters in _walk(get_resolver().url_patterns):
        if route.startswith("admin/"):
            found["admin:*" if name != "admin:login" else "admin:login"] = "admin/"
            continue
        found[name or route] = route
    return found


def test_every_route_has_an_expected_answer():
    assert sorted(routes()) == sorted(EXPECTED)


@pytest.fixture
def world(make_member, make_service):
    """A member with an account, an inquiry and an API token; another member; staff with
    a token; a campaign; a SCIM client; a revoked token of each kind."""
    from campusconf.backoffice import campaigns
    from campusconf.backoffice.campaigns import Cohort
    from campusconf.portal.inquiries import open_inquiry
    from campusconf.portal.models import Inquiry
    from campusconf.provisioning.models import ReconcilePass

    users = get_user_model().objects
    service = make_service()
    member, other = make_member(), make_member()
    for m in (member, other):
        m.user = users.create_user(m.common_id)
        m.save(update_fields=["user"])
    staff = users.create_user("desk", is_staff=True)
    account = open_account(member, service, cause=Cause.MEMBER)
    inquiry = open_inquiry(member, service, Inquiry.Topic.NO_MAIL, "No mail came.")
    campaign = campaigns.start(
        service,
        Cohort(roles=["student"], created_before=None, affiliations=[], common_ids=[]),
        actor=staff,
        reason="matrix campaign",
    )
    held = ReconcilePass.objects.create(service=service, started_at=timezone.now())
    staff_token_row, staff_token = issue_token(staff, "matrix", reason="matrix")
    _row, member_token = issue_token(member.user, "member's", reason="matrix")
    revoked_row, revoked = issue_token(staff, "old", reason="matrix")
    revoke_token(revoked_row, actor=staff, reason="matrix")
    scim_client, scim_token = create_scim_client("idp", ["read", "write", "deactivate"])
    create_scim_client("old-idp", ["read"])
    revoked_scim = create_scim_client("gone-idp", ["read"])[1]
    revoke_scim_client("gone-idp")
    return {
        "users": {"member": member.user, "other_member": other.user, "staff": staff},
        "tokens": {
            "staff_token": staff_token,
            "member_token": member_token,
            "scim_token": scim_token,
            "revoked_token": revoked,
            "revoked_scim": revoked_scim,
        },
        "args": {
            "slug": service.slug,
            "account": account.pk,
            "member": member.pk,
            "inquiry": inquiry.pk,
            "campaign": campaign.pk,
            "held": held.pk,
            "api_token": staff_token_row.pk,
            "scim_client": scim_client.pk,
        },
    }


def url_of(name: str, route: str, args: dict) -> str:
    """The URL of a route, its objects the first member's (or staff's own)."""
    fixed = {
        "admin:*": "/admin/",
        "admin:login": "/admin/login/",
        "scim": "/scim/v2/Users",
        "backoffice:api_not_found": "/staff/api/v1/nothing",
    }
    if name in fixed:
        return fixed[name]
    kwargs: dict = {}
    if "<slug:slug>" in route:
        kwargs["slug"] = args["slug"]
    if "<int:pk>" in route:
        kwargs["pk"] = next(
            args[key]
            for words, key in [
                (("inquir",), "inquiry"),
                (("campaign",), "campaign"),
                (("members/",), "member"),
                (("reconcile",), "held"),
                (("api-tokens",), "api_token"),
                (("scim-tokens",), "scim_client"),
                (("accounts",), "account"),
            ]
            if any(w in route for w in words)
        )
    if "<str:key>" in route:
        kwargs["key"] = "not-in-this-session"
    if "<str:run_id>" in route:
        kwargs["run_id"] = "20260101-000000-abcdef"
    if "<slug:remedy>" in route:
        kwargs["remedy"] = "resend"
    if "<slug:action>" in route:
        kwargs["action"] = "pause" if "campaign" in route else "retry"
    return reverse(name, kwargs=kwargs)


def client_for(role: str, world: dict, url: str) -> Client:
    client = Client()
    if role in world["users"]:
        client.force_login(world["users"][role])
    elif role != "anonymous":
        key = "revoked_scim" if role == "revoked_token" and url.startswith("/scim/") else role
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['tokens'][key]}"
    return client


def answer(role: str, world: dict, name: str, route: str, method: str) -> int | str:
    url = url_of(name, route, world["args"])
    client = client_for(role, world, url)
    if method == "GET":
        response = client.get(url)
    elif "/api/" in url:
        body = json.dumps({"reason": "matrix check"})
        response = client.post(url, body, content_type="application/json")
    else:
        response = client.post(url, {"reason": "matrix check"})
    if response.status_code in (301, 302):
        where = response["Location"]
        for start, label in [
            ("/staff/login/", "→staff-login"),
            ("/admin/login/", "→admin-login"),
            ("/signin/", "→signin"),
        ]:
            if where.startswith(start):
                return f"{response.status_code}{label}"
        return response.status_code
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_role_gets_the_expected_answer(name, world, settings):
    settings.CAMPUSCONF_METRICS_OPEN = False  # as in production
    route = routes().get(name)
    if route is None:
        pytest.fail(f"{name} is in the table but no longer a route: remove its line")
    method, expected = EXPECTED[name]
    got = tuple(answer(role, world, name, route, method) for role in ROLES)
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, expected, strict=True))
