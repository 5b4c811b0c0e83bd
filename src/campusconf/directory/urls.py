from django.urls import path

from campusconf.directory.scim.server import scim_view

urlpatterns = [
    path("scim/v2", scim_view, name="scim-root"),
    path("scim/v2/<path:path>", scim_view, name="scim"),
]
