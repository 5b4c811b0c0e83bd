"""Account events and an account's last error store a reason code and its parameters
instead of an English sentence.

Every sentence the engine, the portal and the back office wrote before is mapped to its
code here, with the parts that varied as parameters. The patterns are a copy of what
those writers wrote, not an import of today's code, so this migration keeps meaning
what it meant. Text no pattern matches is kept whole: a person's words (cause member
or staff) as ``note``, the vendor's words on a failure as ``vendor_refused``, anything
else as ``other``; nothing is lost. A last error was the vendor's words, after the
held-elsewhere or gave-up prefix when there was one. Going back writes the English text
again.
"""

import re

from django.db import migrations, models

# (pattern, code): the whole text must match; named groups become the parameters.
PATTERNS: list[tuple[str, str]] = [
    (r"vendor user created; invitation sent", "vendor_user_created"),
    (r"vendor user reactivated \(the same user: its data kept\)", "vendor_user_reactivated"),
    (r"vendor user removed", "vendor_user_removed"),
    (r"vendor user found", "vendor_user_found"),
    (r"vendor user already existed; linked", "vendor_user_linked"),
    (r"invitation sent again", "invitation_resent"),
    (r"licence given back", "licence_given_back"),
    (r"the address holds an account outside the university: (?P<detail>.*)", "held_elsewhere"),
    (r"gave up: (?P<detail>.*)", "retries_exhausted"),
    (r"the vendor now shows the user in our organisation", "vendor_shows_user"),
    (r"invitation validity passed \(S4\)", "invitation_expired"),
    (r"gone at the vendor but still wanted", "gone_at_vendor"),
    (
        r"activated with Sign in with Google \(S12\): the vendor user holds no licence",
        "google_sign_in",
    ),
    (r"the vendor user holds no licence", "no_licence"),
    (r"the address at the vendor was changed to (?P<address>.*) \(S9\)", "address_changed"),
    (r"the member activated the account", "member_activated"),
    (r"found active at the vendor after all", "found_active"),
    (r"sign-in disabled at the vendor", "sign_in_disabled"),
    (r"(?P<vendor>zoom) (?P<event>[\w.]+)", "vendor_webhook"),
    (
        r"the member says they chose Sign in with Google \(S12\); "
        r"Zoom shows the university's user still pending",
        "member_reports_google",
    ),
    (r"a fresh invitation after S12", "fresh_invitation_after_google"),
    (r"released the account elsewhere", "released_elsewhere"),
    (r"resend", "resend"),
    (r"retry", "retry"),
    (r"suspend", "suspend"),
    (r"reprovision", "reprovision"),
    (r"licence ended on (?P<date>\S+) \((?P<policy>\w+)\)", "licence_ended"),
    (
        r"licence renewed \(now valid until (?P<until>[^)]+)\): "
        r"the account the licence end of (?P<ended>\S+) suspended is restored",
        "licence_renewed",
    ),
    (
        r"licence renewed \(no end date\): "
        r"the account the licence end of (?P<ended>\S+) suspended is restored",
        "licence_renewed_no_end",
    ),
    (r"seat freed; waiting since (?P<since>.+)", "seat_freed"),
    (r"member left on (?P<date>\S+), grace period over", "member_left"),
    (r"campaign (?P<campaign>\d+)", "campaign"),
    (r"campaign cancelled", "campaign_cancelled"),
]
COMPILED = [(re.compile(pattern, re.DOTALL), code) for pattern, code in PATTERNS]

# The English texts, for going back (the parameters as %(name)s).
TEXTS = {
    "note": "%(text)s",
    "other": "%(text)s",
    "vendor_refused": "%(detail)s",
    "held_elsewhere": "the address holds an account outside the university: %(detail)s",
    "retries_exhausted": "gave up: %(detail)s",
    "address_changed": "the address at the vendor was changed to %(address)s (S9)",
    "vendor_webhook": "%(vendor)s %(event)s",
    "licence_ended": "licence ended on %(date)s (%(policy)s)",
    "licence_renewed": "licence renewed (now valid until %(until)s): "
    "the account the licence end of %(ended)s suspended is restored",
    "licence_renewed_no_end": "licence renewed (no end date): "
    "the account the licence end of %(ended)s suspended is restored",
    "seat_freed": "seat freed; waiting since %(since)s",
    "member_left": "member left on %(date)s, grace period over",
    "campaign": "campaign %(campaign)s",
}
TEXTS.update({code: pattern.replace("\\", "") for pattern, code in PATTERNS if code not in TEXTS})

# The codes as they were when this migration was written.
CHOICES = [
    ("note", "%(text)s"),
    ("other", "%(text)s"),
    ("vendor_user_created", "vendor user created; invitation sent"),
    ("vendor_user_reactivated", "vendor user reactivated (the same user: its data kept)"),
    ("vendor_user_removed", "vendor user removed"),
    ("vendor_user_found", "vendor user found"),
    ("vendor_user_linked", "vendor user already existed; linked"),
    ("invitation_resent", "invitation sent again"),
    ("licence_given_back", "licence given back"),
    ("held_elsewhere", "the address holds an account outside the university: %(detail)s"),
    ("vendor_refused", "the vendor refused: %(detail)s"),
    ("retries_exhausted", "gave up after repeated attempts: %(detail)s"),
    ("vendor_shows_user", "the vendor now shows the user in our organisation"),
    ("invitation_expired", "invitation validity passed (S4)"),
    ("gone_at_vendor", "gone at the vendor but still wanted"),
    (
        "google_sign_in",
        "activated with Sign in with Google (S12): the vendor user holds no licence",
    ),
    ("no_licence", "the vendor user holds no licence"),
    ("address_changed", "the address at the vendor was changed to %(address)s (S9)"),
    ("member_activated", "the member activated the account"),
    ("found_active", "found active at the vendor after all"),
    ("sign_in_disabled", "sign-in disabled at the vendor"),
    ("vendor_webhook", "%(vendor)s webhook: %(event)s"),
    (
        "member_reports_google",
        "the member says they chose Sign in with Google (S12); Zoom shows the university's user still pending",
    ),
    ("fresh_invitation_after_google", "a fresh invitation after Sign in with Google (S12)"),
    ("released_elsewhere", "released the account elsewhere"),
    ("resend", "a fresh invitation asked for"),
    ("retry", "retried"),
    ("suspend", "suspended"),
    ("reprovision", "re-provisioned"),
    ("licence_ended", "licence ended on %(date)s (%(policy)s)"),
    (
        "licence_renewed",
        "licence renewed (now valid until %(until)s): the account the licence end of %(ended)s suspended is restored",
    ),
    (
        "licence_renewed_no_end",
        "licence renewed (no end date): the account the licence end of %(ended)s suspended is restored",
    ),
    ("seat_freed", "seat freed; waiting since %(since)s"),
    ("member_left", "member left on %(date)s, grace period over"),
    ("campaign", "campaign %(campaign)s"),
    ("campaign_cancelled", "campaign cancelled"),
]


def code_for(text: str, cause: str, to_state: str) -> tuple[str, dict[str, str]]:
    """The code and parameters of one stored reason."""
    if not text:
        return "", {}
    for pattern, code in COMPILED:
        found = pattern.fullmatch(text)
        if found:
            return code, found.groupdict()
    if cause in ("member", "staff"):
        return "note", {"text": text}
    if cause == "engine" and to_state == "failed":
        return "vendor_refused", {"detail": text}
    return "other", {"text": text}


def text_for(code: str, params: dict[str, str]) -> str:
    if not code:
        return ""
    try:
        return TEXTS[code] % params
    except (KeyError, TypeError, ValueError):
        return str(params.get("text") or code)


def error_code_for(text: str) -> tuple[str, dict[str, str]]:
    """The code and parameters of an account's last error message."""
    if not text:
        return "", {}
    for pattern, code in COMPILED:
        found = pattern.fullmatch(text)
        if found and code in ("held_elsewhere", "retries_exhausted"):
            return code, found.groupdict()
    return "vendor_refused", {"detail": text}


def errors_to_codes(apps, schema_editor):
    account_model = apps.get_model("accounts", "Account")
    rows = account_model.objects.exclude(last_error_message="").only("last_error_message")
    changed = []
    for account in rows.iterator(chunk_size=2000):
        account.last_error_reason, account.last_error_params = error_code_for(
            account.last_error_message
        )
        changed.append(account)
    account_model.objects.bulk_update(
        changed, ["last_error_reason", "last_error_params"], batch_size=2000
    )


def errors_to_text(apps, schema_editor):
    account_model = apps.get_model("accounts", "Account")
    rows = account_model.objects.exclude(last_error_reason="")
    changed = []
    for account in rows.only("last_error_reason", "last_error_params").iterator(chunk_size=2000):
        account.last_error_message = text_for(account.last_error_reason, account.last_error_params)
        changed.append(account)
    account_model.objects.bulk_update(changed, ["last_error_message"], batch_size=2000)


def to_codes(apps, schema_editor):
    event_model = apps.get_model("accounts", "AccountEvent")
    rows = event_model.objects.exclude(reason="").only("reason", "cause", "to_state")
    changed = []
    for event in rows.iterator(chunk_size=2000):
        event.reason_code, event.reason_params = code_for(event.reason, event.cause, event.to_state)
        changed.append(event)
        if len(changed) >= 2000:
            event_model.objects.bulk_update(changed, ["reason_code", "reason_params"])
            changed = []
    event_model.objects.bulk_update(changed, ["reason_code", "reason_params"])


def to_text(apps, schema_editor):
    event_model = apps.get_model("accounts", "AccountEvent")
    rows = event_model.objects.exclude(reason_code="").only("reason_code", "reason_params")
    changed = []
    for event in rows.iterator(chunk_size=2000):
        event.reason = text_for(event.reason_code, event.reason_params)
        changed.append(event)
    event_model.objects.bulk_update(changed, ["reason"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_state_held_elsewhere"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountevent",
            name="reason_code",
            field=models.CharField(
                blank=True, choices=CHOICES, default="", max_length=40, verbose_name="reason"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="accountevent",
            name="reason_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="reason's details"),
        ),
        migrations.RunPython(to_codes, to_text, elidable=False),
        migrations.RemoveField(model_name="accountevent", name="reason"),
        migrations.AddField(
            model_name="account",
            name="last_error_reason",
            field=models.CharField(
                blank=True, choices=CHOICES, default="", max_length=40, verbose_name="last error"
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="account",
            name="last_error_params",
            field=models.JSONField(blank=True, default=dict, verbose_name="last error's details"),
        ),
        migrations.RunPython(errors_to_codes, errors_to_text, elidable=False),
        migrations.RemoveField(model_name="account", name="last_error_message"),
    ]
