from django.urls import path, re_path

from vendor_sandbox import admin
from vendor_sandbox.scim import webex as webex_scim
from vendor_sandbox.scim import zoom as zoom_scim
from vendor_sandbox.webex import api as webex
from vendor_sandbox.webex import licences as webex_licences
from vendor_sandbox.webex import oauth as webex_oauth
from vendor_sandbox.webex import pages as webex_pages
from vendor_sandbox.zoom import api as zoom
from vendor_sandbox.zoom import oauth
from vendor_sandbox.zoom import pages as zoom_pages

JOBS = "webex/v1/identity/organizations/<str:org_id>/jobs/sendActivationEmails"

handler404 = "vendor_sandbox.admin.not_found"
handler500 = "vendor_sandbox.admin.server_error"

urlpatterns = [
    path("webex/v1/access_token", webex_oauth.token),
    path("webex/v1/people", webex.people),
    path("webex/v1/people/<str:person_id>", webex.person),
    path("webex/v1/licenses", webex_licences.licenses),
    path("webex/v1/licenses/users", webex_licences.license_users),
    path(JOBS, webex.activation_job),
    path(f"{JOBS}/<str:job_id>/status", webex.activation_job_status),
    path(f"{JOBS}/<str:job_id>/errors", webex.activation_job_errors),
    re_path(r"^webex/v1/(?P<rest>.*)$", webex.unknown),
    path("webex/identity/scim/<str:org_id>/v2/Users", webex_scim.users),
    path("webex/identity/scim/<str:org_id>/v2/Users/<str:user_id>", webex_scim.user),
    path("zoom/oauth/token", oauth.token),
    path("zoom/v2/users", zoom.users),
    path("zoom/v2/users/email", zoom.users_email),
    path("zoom/v2/users/summary", zoom.users_summary),
    path("zoom/v2/users/<str:key>", zoom.user),
    path("zoom/v2/users/<str:key>/status", zoom.user_status),
    re_path(r"^zoom/v2/(?P<rest>.*)$", zoom.unknown),
    path("zoom/scim2/Users", zoom_scim.users),
    path("zoom/scim2/Users/<str:user_id>", zoom_scim.user),
    path("webex/activate/<str:token>", webex_pages.activate),
    path("webex/convert/<str:token>", webex_pages.convert),
    path("webex/reset/<str:token>", webex_pages.reset),
    path("webex/signin", webex_pages.signin),
    path("webex/forgot", webex_pages.forgot),
    path("webex/home", webex_pages.home),
    path("webex/profile", webex_pages.profile),
    path("webex/signout", webex_pages.signout),
    path("zoom/", zoom_pages.home),
    path("zoom/activate/<str:token>", zoom_pages.activate),
    path("zoom/join/<str:token>", zoom_pages.join),
    path("zoom/reset/<str:token>", zoom_pages.reset),
    path("zoom/signin", zoom_pages.signin),
    path("zoom/forgot", zoom_pages.forgot),
    path("zoom/account", zoom_pages.account),
    path("zoom/signout", zoom_pages.signout),
    path("_admin/reset", admin.reset),
    path("_admin/personal-accounts", admin.personal_accounts),
    path("_admin/clock", admin.clock_view),
    path("_admin/faults", admin.faults_view),
    path("_admin/variants", admin.variants_view),
    path("_admin/webhook", admin.webhook),
    path("_admin/webex-domains", admin.webex_domains),
    path("_admin/counters", admin.counters_view),
    path("_admin/users", admin.users),
    path("_admin/mails", admin.mails),
    path("_admin/credentials", admin.credentials_view),
    path("_admin/page", admin.page),
    path("", admin.page),
]
