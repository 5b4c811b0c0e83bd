"""A service's settings are refused with a message naming the field and the rule."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from campusconf.services.models import Service

pytestmark = pytest.mark.django_db


def service(**overrides):
    fields = {
        "slug": "zoom",
        "vendor": "zoom",
        "name_ja": "Zoom",
        "name_en": "Zoom",
        "plan_name": "Pro",
        "max_participants": 500,
        "invitation_validity_days": 30,
        "eligible_roles": "faculty staff student",
    }
    fields.update(overrides)
    return Service(**fields)


def test_invitation_validity_of_zero_is_refused():
    with pytest.raises(ValidationError) as refused:
        service(invitation_validity_days=0).full_clean()
    assert "invitation_validity_days" in refused.value.message_dict


def test_unknown_eligible_role_is_refused():
    with pytest.raises(ValidationError) as refused:
        service(eligible_roles="faculty alumni").full_clean()
    assert "alumni" in refused.value.message_dict["eligible_roles"][0]


def test_a_secret_in_connector_settings_is_refused():
    with pytest.raises(ValidationError) as refused:
        service(connector_settings={"client_secret": "s3cret"}).full_clean()
    assert "environment variable" in refused.value.message_dict["connector_settings"][0]


def test_connector_settings_name_environment_variables():
    service(connector_settings={"client_secret_env": "ZOOM_SECRET"}).full_clean()
    with pytest.raises(ValidationError):
        service(connector_settings={"client_secret_env": "not a name"}).full_clean()


def test_licence_must_end_after_it_starts():
    with pytest.raises(ValidationError):
        service(
            valid_from=datetime.date(2027, 1, 1), valid_until=datetime.date(2026, 1, 1)
        ).full_clean()
