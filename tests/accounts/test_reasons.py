"""Reason codes: every code reads in Japanese and English, writers store codes, and the
migration turns the English sentences stored before into codes without losing any."""

import importlib
import re

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation

from campusconf.accounts.lifecycle import open_account, transition
from campusconf.accounts.reasons import Reason, Why, render, stored
from campusconf.accounts.states import Cause, State

migration = importlib.import_module("campusconf.accounts.migrations.0004_reason_codes")


def _params(code: Reason) -> dict[str, str]:
    return {name: "X1" for name in re.findall(r"%\((\w+)\)s", str(Reason(code).label))}


@pytest.mark.parametrize("code", list(Reason))
def test_each_code_reads_in_japanese_and_english(code):
    params = _params(code)
    with translation.override("en"):
        english = render(code, params)
    with translation.override("ja"):
        japanese = render(code, params)
    assert english and "%(" not in english and "%(" not in japanese
    if code in (Reason.NOTE, Reason.OTHER):
        assert english == japanese == "X1"  # a person's or an old row's words, as written
    else:
        assert japanese != english
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", japanese), japanese


def test_parameters_and_the_policy_are_shown_in_the_readers_language():
    why = Why(Reason.LICENCE_ENDED, date="2027-03-31", policy="suspend")
    code, params = stored(why)
    with translation.override("en"):
        assert render(code, params) == "licence ended on 2027-03-31 (suspend the accounts)"
    with translation.override("ja"):
        text = render(code, params)
    assert text.startswith("ライセンスが 2027-03-31 に終了しました") and "suspend" not in text


def test_a_persons_words_are_a_note_and_nothing_is_no_reason():
    assert stored("  desk call #12 ") == ("note", {"text": "desk call #12"})
    assert stored("") == ("", {})
    assert stored(Reason.RETRY) == ("retry", {})
    assert render("", {}) == ""
    # A code this release does not know (a newer one's) shows what it has.
    assert render("from_the_future", {"text": "kept"}) == "kept"


@pytest.mark.django_db
def test_a_transition_stores_the_code_and_its_parameters(make_member, make_service):
    account = open_account(make_member(), make_service(), cause=Cause.MEMBER)
    event = transition(
        account,
        State.FAILED,
        cause=Cause.ENGINE,
        reason=Why(Reason.VENDOR_REFUSED, detail="409 [tracking T1]"),
    )
    event.refresh_from_db()
    assert (event.reason_code, event.reason_params) == (
        "vendor_refused",
        {"detail": "409 [tracking T1]"},
    )
    with translation.override("en"):
        assert event.reason == "the vendor refused: 409 [tracking T1]"


# What the writers stored before reasons had codes, and the code each becomes.
OLD_ROWS = [
    ("vendor user created; invitation sent", "engine", "invited", "vendor_user_created", {}),
    ("invitation sent again", "engine", "invited", "invitation_resent", {}),
    (
        "activated with Sign in with Google (S12): the vendor user holds no licence",
        "reconcile",
        "unlicensed",
        "google_sign_in",
        {},
    ),
    (
        "the member says they chose Sign in with Google (S12); "
        "Zoom shows the university's user still pending",
        "member",
        "unlicensed",
        "member_reports_google",
        {},
    ),
    (
        "the address at the vendor was changed to a@gmail.example (S9)",
        "reconcile",
        "unlicensed",
        "address_changed",
        {"address": "a@gmail.example"},
    ),
    (
        "the address holds an account outside the university: paid account [tracking T9]",
        "engine",
        "held_elsewhere",
        "held_elsewhere",
        {"detail": "paid account [tracking T9]"},
    ),
    ("gave up: TransientFailure: 503", "engine", "failed", "retries_exhausted", {"detail": "TransientFailure: 503"}),
    ("User is disabled [tracking Z1]", "engine", "failed", "vendor_refused", {"detail": "User is disabled [tracking Z1]"}),
    ("licence ended on 2027-03-31 (suspend)", "engine", "suspended", "licence_ended", {"date": "2027-03-31", "policy": "suspend"}),
    (
        "licence renewed (now valid until 2028-03-31): the account the licence end of "
        "2027-03-31 suspended is restored",
        "engine",
        "requested",
        "licence_renewed",
        {"until": "2028-03-31", "ended": "2027-03-31"},
    ),
    ("seat freed; waiting since 2027-04-01 09:30", "engine", "requested", "seat_freed", {"since": "2027-04-01 09:30"}),
    ("zoom user.signed_in", "vendor", "active", "vendor_webhook", {"vendor": "zoom", "event": "user.signed_in"}),
    ("member left on 2027-03-31, grace period over", "engine", "removed", "member_left", {"date": "2027-03-31"}),
    ("campaign 7", "staff", "requested", "campaign", {"campaign": "7"}),
    ("resend", "member", "requested", "resend", {}),
    ("Inquiry #12: the member called", "staff", "requested", "note", {"text": "Inquiry #12: the member called"}),
    ("something the engine once said", "engine", "active", "other", {"text": "something the engine once said"}),
    ("", "engine", "invited", "", {}),
]  # fmt: skip


@pytest.mark.parametrize(("text", "cause", "to_state", "code", "params"), OLD_ROWS)
def test_the_migration_maps_each_old_sentence(text, cause, to_state, code, params):
    assert migration.code_for(text, cause, to_state) == (code, params)


@pytest.mark.parametrize(("text", "cause", "to_state", "code", "params"), OLD_ROWS)
def test_going_back_writes_the_same_english_again(text, cause, to_state, code, params):
    assert migration.text_for(code, params) == text


@pytest.mark.django_db(transaction=True)
def test_the_migration_turns_stored_rows_into_codes(make_member, make_service):
    before = [("accounts", "0003_account_state_held_elsewhere")]
    after = [("accounts", "0004_reason_codes")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        account_model = old.get_model("accounts", "Account")
        event_model = old.get_model("accounts", "AccountEvent")
        account = account_model.objects.create(
            member_id=make_member().pk, service_id=make_service().pk, state="failed"
        )
        for text, cause, to_state, _code, _params in OLD_ROWS:
            event_model.objects.create(
                account=account, from_state="requested", to_state=to_state, cause=cause, reason=text
            )
        executor = MigrationExecutor(connection)
        executor.migrate(after)
        new = executor.loader.project_state(after).apps.get_model("accounts", "AccountEvent")
        rows = list(new.objects.filter(account_id=account.pk).order_by("pk"))
        assert [(e.reason_code, e.reason_params) for e in rows] == [
            (code, params) for _t, _c, _s, code, params in OLD_ROWS
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())
