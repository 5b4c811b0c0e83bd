"""The demo's sample university: about 60 members and the two services of the seeds."""

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from campusconf.members.actions import mark_left, register_member
from campusconf.members.models import Member
from campusconf.services.models import Service
from campusconf.signin.passwords import enrol_totp, totp_device

# The demo administrator's one-time-code secret (hex), published like its password:
# `campusconf demo-totp` prints the current code. A real installation enrols its own
# with `campusconf totp-enrol`.
DEMO_TOTP_KEY = "63616d707573636f6e662d64656d6f2d746f7470"

FAMILY = [
    ("田中", "Tanaka"),
    ("佐藤", "Sato"),
    ("鈴木", "Suzuki"),
    ("高橋", "Takahashi"),
    ("伊藤", "Ito"),
    ("渡辺", "Watanabe"),
    ("山本", "Yamamoto"),
    ("中村", "Nakamura"),
    ("小林", "Kobayashi"),
    ("加藤", "Kato"),
    ("吉田", "Yoshida"),
    ("山田", "Yamada"),
    ("佐々木", "Sasaki"),
    ("山口", "Yamaguchi"),
    ("松本", "Matsumoto"),
    ("井上", "Inoue"),
    ("木村", "Kimura"),
    ("林", "Hayashi"),
    ("清水", "Shimizu"),
    ("森", "Mori"),
]
GIVEN = [
    ("陽菜", "Hina"),
    ("蓮", "Ren"),
    ("結衣", "Yui"),
    ("湊", "Minato"),
    ("葵", "Aoi"),
    ("大翔", "Hiroto"),
    ("美咲", "Misaki"),
    ("悠真", "Yuma"),
    ("さくら", "Sakura"),
    ("健太", "Kenta"),
    ("花子", "Hanako"),
    ("翔", "Sho"),
    ("明美", "Akemi"),
    ("誠", "Makoto"),
    ("直子", "Naoko"),
]
AFFILIATIONS = [  # (English, Japanese)
    ("Faculty of Letters", "文学部"),
    ("Faculty of Science", "理学部"),
    ("Faculty of Engineering", "工学部"),
    ("Graduate School of Information Science", "情報科学研究科"),
    ("Information Technology Center", "情報基盤センター"),
]

# The seed's Zoom campaign invited students who held a university account on 3/24 (S10).
ROSTER_CUTOFF = datetime.date(2026, 3, 24)


# The sample member who already holds personal Webex and Zoom accounts at their
# university address, so the demo can walk S7 (conversion) and Zoom's join request.
PERSONAL_ACCOUNT_INDEX = 3
# The sample member whose university address already holds a paid Zoom account elsewhere,
# which Zoom will not invite: the demo's account "held elsewhere" (Errata Z-d).
PAID_ELSEWHERE_INDEX = 5


@dataclass(frozen=True)
class SampleSpec:
    roles: tuple[str, ...]
    created_on: datetime.date


def _spec(index: int) -> SampleSpec:
    if index < 10:
        return SampleSpec(("faculty",), datetime.date(2010 + index % 10, 4, 1))
    if index < 20:
        return SampleSpec(("staff",), datetime.date(2015 + index % 8, 4, 1))
    if index < 22:
        return SampleSpec(("faculty", "staff"), datetime.date(2012, 4, 1))
    if index < 52:
        return SampleSpec(("student",), datetime.date(2025, 4, 1))
    # Students whose university account was created after the roster cut-off date.
    return SampleSpec(("student",), datetime.date(2026, 4, 6))


def common_id_for(index: int) -> str:
    return f"{2600000000 + index * 137:010d}"


def sample_members(count: int = 60) -> list[dict[str, object]]:
    domain = settings.CAMPUSCONF_MAIL_DOMAIN
    rows: list[dict[str, object]] = []
    for index in range(count):
        family_ja, family = FAMILY[index % len(FAMILY)]
        given_ja, given = GIVEN[(index * 7) % len(GIVEN)]
        spec = _spec(index)
        affiliation, affiliation_ja = AFFILIATIONS[index % len(AFFILIATIONS)]
        common_id = common_id_for(index)
        aliases = [f"{given.lower()}.{family.lower()}{index}@{domain}"] if index % 4 == 0 else []
        rows.append(
            {
                "common_id": common_id,
                "family_name_ja": family_ja,
                "given_name_ja": given_ja,
                "family_name_latin": family,
                "given_name_latin": given,
                "affiliation": affiliation,
                "affiliation_ja": affiliation_ja,
                "roles": spec.roles,
                "university_account_created_on": spec.created_on,
                "mail_address": f"{common_id}@{domain}",
                "aliases": aliases,
                "preferred_language": "en" if index % 5 == 0 else "ja",
            }
        )
    return rows


def personal_account_holder() -> dict[str, object]:
    return sample_members(PERSONAL_ACCOUNT_INDEX + 1)[PERSONAL_ACCOUNT_INDEX]


def paid_elsewhere_holder() -> dict[str, object]:
    return sample_members(PAID_ELSEWHERE_INDEX + 1)[PAID_ELSEWHERE_INDEX]


def personal_accounts() -> list[dict[str, object]]:
    """The vendor sandbox's personal accounts for the demo (its seed-personal command)."""

    def account(row: dict[str, object], vendor: str, paid: bool = False) -> dict[str, object]:
        return {
            "vendor": vendor,
            "email": str(row["mail_address"]),
            "display_name": f"{row['given_name_latin']} {row['family_name_latin']}",
            "first_name": str(row["given_name_latin"]),
            "last_name": str(row["family_name_latin"]),
            "paid": paid,
        }

    holder = personal_account_holder()
    return [
        account(holder, "webex"),
        account(holder, "zoom"),
        account(paid_elsewhere_holder(), "zoom", paid=True),
    ]


def service_definitions(
    sandbox_base_url: str, credentials: dict[str, Any] | None = None
) -> list[dict[str, object]]:
    webex = (credentials or {}).get("webex", {})
    licence_ids = list(webex.get("licenses", {}).values())[:1]
    return [
        {
            "slug": "webex",
            "vendor": Service.Vendor.WEBEX,
            "display_order": 1,
            "name_ja": "Webex（エンドツーエンド暗号化会議）",
            "name_en": "Webex (end-to-end encrypted meetings)",
            "description_ja": "エンドツーエンド暗号化された安全な会議を開催できる Webex アカウントです。",
            "description_en": "A Webex account that can host secure, end-to-end encrypted meetings.",
            "plan_name": "Webex Meetings Enterprise",
            "seats": 20000,
            "max_participants": 1000,
            "webinars": False,
            "end_to_end_encryption": True,
            "valid_from": datetime.date(2026, 4, 1),
            "valid_until": datetime.date(2027, 3, 31),
            "invitation_validity_days": 15,
            "eligible_roles": "faculty staff student",
            "connector_settings": {
                "base_url": f"{sandbox_base_url}/webex/v1",
                # The service app's tokens: renewed by CampusConf, kept in its database.
                "access_token_env": "CAMPUSCONF_WEBEX_ACCESS_TOKEN",
                "refresh_token_env": "CAMPUSCONF_WEBEX_REFRESH_TOKEN",
                "client_id_env": "CAMPUSCONF_WEBEX_CLIENT_ID",
                "client_secret_env": "CAMPUSCONF_WEBEX_CLIENT_SECRET",
                "org_id": webex.get("org_id", ""),
                # The connector factory takes one licence id (connectors/factory.py).
                "licence_id": licence_ids[0] if licence_ids else "",
                # The portal's links for members: the sandbox's pages, not Webex's.
                "sign_in_url": f"{sandbox_base_url}/webex/signin",
                "home_url": f"{sandbox_base_url}/webex/home",
            },
        },
        {
            "slug": "zoom",
            "vendor": Service.Vendor.ZOOM,
            "display_order": 2,
            "name_ja": "Zoom Pro",
            "name_en": "Zoom Pro",
            "description_ja": "500人までの会議とウェビナーを開催できる大学契約の Zoom Pro アカウントです。",
            "description_en": "The university's Zoom Pro licence: meetings of up to 500 people and webinars.",
            "plan_name": "Zoom Pro",
            "seats": 40000,
            "max_participants": 500,
            "webinars": True,
            "end_to_end_encryption": False,
            "valid_from": datetime.date(2026, 5, 1),
            "valid_until": datetime.date(2027, 4, 30),
            "invitation_validity_days": 30,
            "eligible_roles": "faculty staff student",
            "roster_cutoff": ROSTER_CUTOFF,
            "connector_settings": {
                "base_url": f"{sandbox_base_url}/zoom/v2",
                "oauth_base_url": f"{sandbox_base_url}/zoom",
                "plan": "pro",  # the engine paces at the plan's rate limits (docs/vendors.md)
                "account_id_env": "CAMPUSCONF_ZOOM_ACCOUNT_ID",
                "client_id_env": "CAMPUSCONF_ZOOM_CLIENT_ID",
                "client_secret_env": "CAMPUSCONF_ZOOM_CLIENT_SECRET",
                "webhook_secret_env": "CAMPUSCONF_ZOOM_WEBHOOK_SECRET",
                "sign_in_url": f"{sandbox_base_url}/zoom/signin",
                "home_url": f"{sandbox_base_url}/zoom/",
            },
        },
    ]


@transaction.atomic
def load_sample_data(
    sandbox_base_url: str, admin_password: str, credentials: dict[str, Any] | None = None
) -> dict[str, int]:
    """Idempotent: members and services that exist already are left as they are."""
    created_members = 0
    for row in sample_members():
        if Member.objects.filter(common_id=row["common_id"]).exists():
            continue
        register_member(**row)  # type: ignore[arg-type]
        created_members += 1
    leaver = Member.objects.get(common_id=common_id_for(59))
    if leaver.is_active_member:
        mark_left(leaver, datetime.date(2026, 9, 30))

    for definition in service_definitions(sandbox_base_url, credentials):
        service, _created = Service.objects.update_or_create(
            slug=definition["slug"], defaults=definition
        )
        service.full_clean()

    # IT staff sign in like members (in the demo: the development sign-in, with staff
    # rights ticked); a password is only for the break-glass superuser, with a code.
    admin, _created = get_user_model().objects.get_or_create(
        username="admin", defaults={"is_staff": True, "is_superuser": True}
    )
    admin.set_password(admin_password)
    admin.save()
    if totp_device(admin) is None:
        enrol_totp(admin, key=DEMO_TOTP_KEY)
    return {"members": created_members, "services": Service.objects.count()}
