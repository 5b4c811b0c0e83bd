"""Fixtures shared by every test package: factories for the domain's main rows."""

import datetime
import itertools

import pytest

from campusconf.members.actions import register_member
from campusconf.members.models import Member
from campusconf.services.models import Service

# Shared fixtures live in one place, so every package gets the same session-scoped
# sandbox and SMTP capture rather than one each, and the same signed-in clients.
pytest_plugins = ["tests.fixtures.accounts", "tests.fixtures.browser", "tests.fixtures.sandbox"]

_ids = itertools.count(1)


@pytest.fixture
def make_member():
    """A factory with traits: ``make_member(student=True, created_on=…, aliases=[…])``."""

    def make(
        *,
        faculty: bool = False,
        staff: bool = False,
        student: bool = False,
        created_on: datetime.date = datetime.date(2020, 4, 1),
        aliases: tuple[str, ...] = (),
        affiliation: str = "Faculty of Science",
        affiliation_ja: str = "",
        language: str = "ja",
    ) -> Member:
        n = next(_ids)
        roles = [
            r for r, on in (("faculty", faculty), ("staff", staff), ("student", student)) if on
        ]
        common_id = f"{3000000000 + n:010d}"
        return register_member(
            common_id=common_id,
            family_name_ja="山田",
            given_name_ja="太郎",
            family_name_latin="Yamada",
            given_name_latin=f"Taro{n}",
            roles=roles or ["faculty"],
            university_account_created_on=created_on,
            mail_address=f"{common_id}@g.ecc.example.ac.jp",
            aliases=aliases,
            affiliation=affiliation,
            affiliation_ja=affiliation_ja,
            preferred_language=language,
        )

    return make


@pytest.fixture
def make_service():
    def make(slug: str = "webex", vendor: str = "webex", **overrides: object) -> Service:
        fields: dict[str, object] = {
            "slug": slug,
            "vendor": vendor,
            "name_ja": "ウェベックス",
            "name_en": "Webex",
            "plan_name": "Enterprise",
            "seats": 100,
            "max_participants": 1000,
            "end_to_end_encryption": True,
            "invitation_validity_days": 15,
            "eligible_roles": "faculty staff student",
            "connector_settings": {"base_url": "http://127.0.0.1:8100/webex/v1"},
        }
        fields.update(overrides)
        service = Service(**fields)
        service.full_clean()
        service.save()
        return service

    return make


@pytest.fixture(autouse=True)
def english_by_default():
    """Tests read messages in English unless they switch language themselves."""
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def fresh_cache(request):
    """Rate-limit counters and seen SAML assertions live in the shared cache, which lives in
    the database: a test that has the database starts and ends with it empty; a test
    without database access has nothing in it, and may not touch it."""
    from django.core.cache import cache

    from campusconf.services import catalogue

    # The process's list of services outlives a test's rolled-back rows otherwise.
    catalogue.forget()
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        {"db", "transactional_db"} & set(request.fixturenames)
    )
    if uses_db:
        cache.clear()
    yield
    catalogue.forget()
    if uses_db:
        cache.clear()
