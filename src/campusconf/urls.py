from django.contrib import admin
from django.urls import include, path

from campusconf.core import views as core_views
from campusconf.core.metrics_access import metrics_guard
from campusconf.portal import front
from campusconf.provisioning.engine.webhook_receiver import zoom_webhook
from campusconf.provisioning.ops.metrics import metrics_view
from campusconf.signin.urls import external_urlpatterns as signin_external_urls

urlpatterns = [
    path("", front.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Django's switcher, wrapped so a member's mails follow the language they chose.
    path("i18n/setlang/", front.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("staff/audit/", include("campusconf.audit.urls")),
    path("staff/", include("campusconf.backoffice.urls")),
    path("webhooks/zoom", zoom_webhook, name="zoom-webhook"),
    path("metrics", metrics_guard(metrics_view), name="metrics"),
    path("", include("campusconf.directory.urls")),
    path("", include("campusconf.signin.urls")),
    path("", include(signin_external_urls)),
    path("", include("campusconf.portal.urls")),
]
