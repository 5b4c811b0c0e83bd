"""The demo seeds personal vendor accounts for one named sample member, so S7 can be tried."""

import json
import sqlite3
import subprocess
import sys

from campusconf.demo.management.commands.demo import Command
from campusconf.demo.sample import (
    paid_elsewhere_holder,
    personal_account_holder,
    personal_accounts,
)


def seed(db, accounts) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "vendor_sandbox.cli", "seed-personal", "--db", str(db),
         json.dumps(accounts)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.stdout


def test_the_sandbox_gets_personal_accounts_for_the_named_member(tmp_path):
    db = tmp_path / "sandbox.sqlite3"
    holder = personal_account_holder()
    paid = paid_elsewhere_holder()
    first = seed(db, personal_accounts())
    assert first.count(": seeded") == 3
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT vendor, email, paid FROM vendor_sandbox_personalaccount ORDER BY vendor, paid"
        ).fetchall()
    assert rows == [
        ("webex", holder["mail_address"], 0),
        ("zoom", holder["mail_address"], 0),
        ("zoom", paid["mail_address"], 1),  # Zoom will not invite it: held elsewhere (Z-d)
    ]
    # A second start of the demo leaves them (and whatever the person did since) alone.
    assert seed(db, personal_accounts()).count("left as it is") == 3


def test_the_banner_names_the_member_who_holds_them():
    holder = personal_account_holder()
    banner = Command().banner({})
    line = next(line for line in banner.splitlines() if "Personal accounts" in line)
    assert str(holder["common_id"]) in line and str(holder["family_name_ja"]) in line


def test_every_sample_member_has_an_affiliation_in_both_languages():
    from campusconf.demo.sample import sample_members

    rows = sample_members()
    pairs = {(row["affiliation"], row["affiliation_ja"]) for row in rows}
    assert ("Faculty of Science", "理学部") in pairs
    assert all(english and japanese and not japanese.isascii() for english, japanese in pairs)
    assert len({english for english, _ in pairs}) == len(pairs)  # one Japanese name each
