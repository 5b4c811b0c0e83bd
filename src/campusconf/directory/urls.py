from django.urls import path, re_path

from campusconf.directory.scim.server import scim_view

urlpatterns = [
    path("scim/v2", scim_view, name="scim-root"),
    # Any character, newlines included: whatever follows /scim/v2/ is SCIM's to answer,
    # with a SCIM error, never the site's HTML 404 page.
    re_path(r"^scim/v2/(?P<path>[\s\S]*)$", scim_view, name="scim"),
]
