import pytest

from campusconf.connectors import ConnectorConfigError, build_connector
from campusconf.connectors.scim import ScimConnector
from campusconf.connectors.webex import WebexConnector
from campusconf.connectors.zoom import ZoomConnector


def test_builds_each_kind_from_settings_and_secrets():
    webex = build_connector(
        "webex", {"licence_name": "Meeting"}, {"access_token": "t", "expires_at": "1700000000"}
    )
    zoom = build_connector(
        "zoom",
        {"base_url": "http://127.0.0.1:9/zoom/v2"},
        {"account_id": "a", "client_id": "c", "client_secret": "s"},
    )
    scim = build_connector("scim", {"base_url": "http://127.0.0.1:9/v2"}, {"token": "t"})
    zoom_scim = build_connector(
        "scim", {"base_url": "http://127.0.0.1:9/zoom/scim2", "profile": "zoom"}, {"token": "t"}
    )
    assert isinstance(webex, WebexConnector)
    assert isinstance(zoom_scim, ScimConnector)
    assert isinstance(zoom, ZoomConnector)
    assert isinstance(scim, ScimConnector)
    assert not zoom.capabilities.listing_ids_for_pending


@pytest.mark.parametrize(
    ("kind", "settings", "secrets"),
    [
        ("teams", {}, {}),
        ("webex", {}, {}),
        ("webex", {}, {"access_token": "t", "expires_at": "soon"}),
        ("zoom", {}, {"account_id": "a"}),
        (
            "zoom",
            {"delete_action": "purge"},
            {"account_id": "a", "client_id": "c", "client_secret": "s"},
        ),
        ("scim", {}, {"token": "t"}),
        ("scim", {"base_url": "http://127.0.0.1:9/v2", "profile": "teams"}, {"token": "t"}),
    ],
)
def test_missing_or_bad_configuration_is_a_clear_error(kind, settings, secrets):
    with pytest.raises(ConnectorConfigError):
        build_connector(kind, settings, secrets)
