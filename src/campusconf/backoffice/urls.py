from django.apps import apps
from django.urls import path, re_path

from campusconf.backoffice.views import auth, dashboard, desk

app_name = "backoffice"

urlpatterns = [
    path("login/", auth.StaffLoginView.as_view(), name="login"),
    path("logout/", auth.StaffLogoutView.as_view(), name="logout"),
    path("", dashboard.home, name="home"),
    path("services/<slug:slug>/", dashboard.service_dashboard, name="service"),
    path("services/<slug:slug>/terms/", dashboard.licence_terms, name="licence_terms"),
    path("services/<slug:slug>/accounts.csv", dashboard.export_accounts, name="export_accounts"),
    path("accounts/", desk.search, name="search"),
    path("accounts/list/", desk.account_list, name="account_list"),
    path("accounts/<int:pk>/", desk.account_detail, name="account"),
    path(
        "accounts/members/<int:pk>/apply/<slug:slug>/",
        desk.apply_on_behalf,
        name="apply_on_behalf",
    ),
    path("accounts/<int:pk>/<slug:remedy>/", desk.account_remedy, name="account_remedy"),
]

# Campaigns run on the engine's Campaign model.
if apps.is_installed("campusconf.provisioning"):
    from campusconf.backoffice.views import bulk, campaigns, reconcile

    urlpatterns += [
        path(
            "services/<slug:slug>/failed/retry/",
            bulk.service_retry_failed,
            name="service_retry_failed",
        ),
        path(
            "campaigns/<int:pk>/failures/retry/",
            bulk.campaign_retry_failed,
            name="campaign_retry_failed",
        ),
        path("services/<slug:slug>/reconcile/<int:pk>/", reconcile.held_pass, name="held_pass"),
        path("campaigns/", campaigns.campaign_list, name="campaigns"),
        path("campaigns/new/", campaigns.campaign_new, name="campaign_new"),
        path(
            "campaigns/preview/<str:key>.csv",
            campaigns.campaign_preview_csv,
            name="campaign_preview_csv",
        ),
        path("campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign"),
        path("campaigns/<int:pk>/progress/", campaigns.campaign_progress, name="campaign_progress"),
        path(
            "campaigns/<int:pk>/failures.csv", campaigns.campaign_failures, name="campaign_failures"
        ),
        path(
            "campaigns/<int:pk>/<slug:action>/", campaigns.campaign_action, name="campaign_action"
        ),
    ]

# The term-start rehearsal (a development tool, refused outside its settings) plays
# members on the portal against the engine.
if apps.is_installed("campusconf.rehearsal"):
    from campusconf.backoffice.views import rehearsal

    urlpatterns += [
        path("rehearsal/", rehearsal.rehearsal, name="rehearsal"),
        path("rehearsal/<str:run_id>/", rehearsal.rehearsal_run, name="rehearsal_run"),
    ]

# The help desk answers the portal's inquiries; without the portal there are none.
if apps.is_installed("campusconf.portal"):
    from campusconf.backoffice.views import helpdesk

    urlpatterns += [
        path("inquiries/", helpdesk.inquiries, name="inquiries"),
        path("inquiries/<int:pk>/", helpdesk.inquiry_detail, name="inquiry"),
        path("inquiries/<int:pk>/reply/", helpdesk.inquiry_reply, name="inquiry_reply"),
        path("inquiries/<int:pk>/status/", helpdesk.inquiry_status, name="inquiry_status"),
    ]

# The JSON API answers to tokens, not sessions; it needs the engine and the portal.
if apps.is_installed("campusconf.provisioning") and apps.is_installed("campusconf.portal"):
    from campusconf.backoffice.views import api, api_actions, tokens
    from campusconf.backoffice.views.api_http import endpoint, not_found

    urlpatterns += [
        path("api-tokens/", tokens.token_list, name="tokens"),
        path("api-tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
        path("api/v1/openapi.json", api.openapi, name="api_openapi"),
        path("api/v1/accounts", endpoint("/accounts", get=api.account_list), name="api_accounts"),
        path(
            "api/v1/accounts/<int:pk>",
            endpoint("/accounts/{id}", get=api.account_detail),
            name="api_account",
        ),
        path(
            "api/v1/accounts/<int:pk>/<slug:action>",
            endpoint("/accounts/{id}/{action}", post=api_actions.account_action),
            name="api_account_action",
        ),
        path(
            "api/v1/campaigns",
            endpoint("/campaigns", get=api.campaign_list, post=api_actions.campaign_create),
            name="api_campaigns",
        ),
        path(
            "api/v1/campaigns/<int:pk>",
            endpoint("/campaigns/{id}", get=api.campaign_detail),
            name="api_campaign",
        ),
        path(
            "api/v1/campaigns/<int:pk>/<slug:action>",
            endpoint("/campaigns/{id}/{action}", post=api_actions.campaign_action),
            name="api_campaign_action",
        ),
        path(
            "api/v1/inquiries", endpoint("/inquiries", get=api.inquiry_list), name="api_inquiries"
        ),
        path(
            "api/v1/inquiries/<int:pk>/reply",
            endpoint("/inquiries/{id}/reply", post=api_actions.inquiry_reply),
            name="api_inquiry_reply",
        ),
        path(
            "api/v1/inquiries/<int:pk>/status",
            endpoint("/inquiries/{id}/status", post=api_actions.inquiry_status),
            name="api_inquiry_status",
        ),
        # Anything else under api/: a JSON 404, never the site's HTML page.
        re_path(r"^api(?:/[\s\S]*)?$", not_found, name="api_not_found"),
    ]

# The directory feed: roster upload, records that cannot sign in, SCIM clients.
if apps.is_installed("campusconf.directory"):
    from campusconf.backoffice.views import directory

    urlpatterns += [
        path("directory/roster/", directory.roster_upload, name="directory_roster"),
        path("directory/pending/", directory.pending_list, name="directory_pending"),
        path("directory/scim-tokens/", directory.scim_clients, name="directory_scim"),
        path(
            "directory/scim-tokens/<int:pk>/revoke/",
            directory.scim_client_revoke,
            name="directory_scim_revoke",
        ),
        path("directory/scim-holds/", directory.scim_holds, name="directory_scim_holds"),
    ]
