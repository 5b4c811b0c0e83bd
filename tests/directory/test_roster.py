"""The CSV roster: refused line by line when wrong, applied whole when right."""

import datetime
import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from campusconf.audit.actors import Actor
from campusconf.directory import roster as roster_import
from campusconf.members.models import Member, MemberAddress

pytestmark = pytest.mark.django_db

HEADER = (
    "common_id,family_name_ja,given_name_ja,family_name_latin,given_name_latin,affiliation,"
    "roles,university_account_created_on,mail_address,aliases,preferred_language,status,left_on"
)


def row(n: int, **over: str) -> str:
    cid = over.pop("common_id", f"{1000000000 + n:010d}")
    values = {
        "common_id": cid,
        "family_name_ja": "山田",
        "given_name_ja": "花子",
        "family_name_latin": "Yamada",
        "given_name_latin": f"Hanako{n}",
        "affiliation": "Faculty of Letters",
        "roles": "student",
        "university_account_created_on": "2021-04-01",
        "mail_address": f"{cid}@g.ecc.example.ac.jp",
        "aliases": "",
        "preferred_language": "ja",
        "status": "",
        "left_on": "",
    }
    values.update(over)
    return ",".join(values.values())


def import_roster(lines: Any, **options: Any) -> roster_import.RosterReport:
    """The action as the command line calls it: these tests are about the rows."""
    return roster_import.import_roster(lines, actor=Actor.cli(), reason="test", **options)


def roster(*rows: str) -> io.StringIO:
    return io.StringIO("\n".join([HEADER, *rows]) + "\n")


def test_a_clean_roster_is_imported_and_a_second_run_writes_nothing():
    text = roster(row(1, roles="faculty;staff", aliases="h.yamada@example.ac.jp"), row(2))
    report = import_roster(text)
    assert report.ok and report.applied and report.created == 2
    member = Member.objects.get(common_id="1000000001")
    assert member.roles == "faculty staff"
    assert member.mail_address == "1000000001@g.ecc.example.ac.jp"
    assert member.alias_addresses == ["h.yamada@example.ac.jp"]
    again = import_roster(
        roster(row(1, roles="faculty;staff", aliases="h.yamada@example.ac.jp"), row(2))
    )
    assert again.ok and again.writes == 0 and again.unchanged == 2


def test_the_japanese_affiliation_is_imported_and_changed_and_an_old_roster_still_imports():
    header = HEADER.replace(",affiliation,", ",affiliation,affiliation_ja,")

    def with_ja(n: int, affiliation_ja: str) -> str:
        cells = row(n).split(",")
        cells.insert(HEADER.split(",").index("affiliation") + 1, affiliation_ja)
        return ",".join(cells)

    report = import_roster(io.StringIO(f"{header}\n{with_ja(1, '文学部')}\n{with_ja(2, '')}\n"))
    assert report.ok and report.created == 2
    names = dict(Member.objects.values_list("common_id", "affiliation_ja"))
    assert names == {"1000000001": "文学部", "1000000002": ""}
    # A Japanese name that changes is a change like any other.
    again = import_roster(io.StringIO(f"{header}\n{with_ja(1, '文学研究科')}\n{with_ja(2, '')}\n"))
    assert again.ok and again.updated == 1 and again.unchanged == 1
    assert Member.objects.get(common_id="1000000001").affiliation_ja == "文学研究科"
    # A file from before the column: it imports; the missing column is an empty cell.
    old = import_roster(roster(row(3)))
    assert old.ok and old.created == 1
    assert Member.objects.get(common_id="1000000003").affiliation_ja == ""


def test_a_japanese_affiliation_without_the_english_one_is_refused():
    header = HEADER.replace(",affiliation,", ",affiliation,affiliation_ja,")
    line = row(1, affiliation="").replace(",,student,", ",,理学部,student,", 1)
    report = import_roster(io.StringIO(f"{header}\n{line}\n"))
    assert not report.applied
    assert [(e.line, e.field, e.code) for e in report.errors] == [
        (2, "affiliation_ja", "affiliation_ja_alone")
    ]
    assert Member.objects.count() == 0


def test_every_bad_row_is_reported_with_its_line_and_field_and_nothing_is_written():
    text = roster(
        row(1),
        row(2, common_id="12345"),
        row(3, roles="teacher"),
        row(4, university_account_created_on="2021/04/01"),
        row(5, mail_address="not-an-address"),
        row(6, mail_address="1000000001@g.ecc.example.ac.jp"),
        row(7, common_id="1000000001"),
        row(8, status="left"),
        row(9, common_id="１２３４５６７８９０", mail_address="wide@example.ac.jp"),
    )
    report = import_roster(text)
    assert not report.applied
    found = {(e.line, e.field, e.code) for e in report.errors}
    assert found == {
        (3, "common_id", "common_id_format"),
        (4, "roles", "unknown_role"),
        (5, "university_account_created_on", "date_format"),
        (6, "mail_address", "invalid_address"),
        (7, "mail_address", "duplicate"),
        (8, "common_id", "duplicate"),
        (9, "left_on", "required"),
        (10, "common_id", "common_id_format"),
    }
    assert Member.objects.count() == 0
    assert "line 4, roles" in str(next(e for e in report.errors if e.line == 4))


def test_an_address_of_another_member_is_refused_case_insensitively(make_member):
    other = make_member()
    report = import_roster(roster(row(1, aliases=other.mail_address.upper())))
    assert [(e.line, e.field, e.code) for e in report.errors] == [(2, "aliases", "address_taken")]
    assert Member.objects.count() == 1


def test_unknown_and_missing_columns_are_refused():
    report = import_roster(io.StringIO("common_id,colour\n1234567890,blue\n"))
    codes = {(e.field, e.code) for e in report.errors}
    assert ("colour", "unknown_column") in codes
    assert ("mail_address", "missing_column") in codes


def test_changes_are_applied_and_addresses_may_move_between_members():
    import_roster(roster(row(1, aliases="shared@example.ac.jp"), row(2)))
    report = import_roster(
        roster(row(1, given_name_latin="Hana"), row(2, aliases="Shared@example.ac.jp"))
    )
    assert report.ok, report.errors
    assert report.updated == 1 and report.addresses_changed == 2
    assert Member.objects.get(common_id="1000000001").given_name_latin == "Hana"
    assert (
        MemberAddress.objects.get(address="Shared@example.ac.jp").member.common_id == "1000000002"
    )


def test_a_row_can_say_the_member_left_and_come_back():
    import_roster(roster(row(1)))
    import_roster(roster(row(1, status="left", left_on="2025-03-31")))
    member = Member.objects.get()
    assert (member.status, member.left_on) == ("left", datetime.date(2025, 3, 31))
    import_roster(roster(row(1)))
    member.refresh_from_db()
    assert (member.status, member.left_on) == ("active", None)


def test_full_import_marks_absent_members_as_left_only_with_the_flag(settings):
    settings.CAMPUSCONF_MASS_CHANGE_PERCENT = 50
    import_roster(roster(row(1), row(2), row(3), row(4)))
    partial = import_roster(roster(row(1), row(2), row(3)))
    assert partial.left == 0
    today = datetime.date(2026, 4, 1)
    report = import_roster(roster(row(1), row(2), row(3)), full=True, today=today)
    assert report.applied and report.left == 1
    assert Member.objects.get(common_id="1000000004").left_on == today


def test_the_mass_change_guard_refuses_a_truncated_full_roster(settings):
    settings.CAMPUSCONF_MASS_CHANGE_PERCENT = 5
    import_roster(roster(*[row(n) for n in range(1, 41)]))
    report = import_roster(roster(row(1)), full=True)  # 39 of 40 would leave; limit is 2
    assert report.refused_mass_change and not report.applied
    assert Member.objects.filter(status="left").count() == 0
    forced = import_roster(roster(row(1)), full=True, allow_mass_change=True)
    assert forced.applied and forced.left == 39


def test_dry_run_reports_and_writes_nothing():
    report = import_roster(roster(row(1)), dry_run=True)
    assert report.created == 1 and not report.applied
    assert Member.objects.count() == 0


def test_the_command_prints_each_bad_row_and_fails(tmp_path, capsys):
    path = tmp_path / "roster.csv"
    path.write_text("\n".join([HEADER, row(1), row(2, roles="")]) + "\n", encoding="utf-8-sig")
    with pytest.raises(CommandError, match="nothing was changed"):
        call_command("import-roster", str(path))
    assert "line 3, roles" in capsys.readouterr().err
    path.write_text("\n".join([HEADER, row(1)]) + "\n", encoding="utf-8")
    call_command("import-roster", str(path), "--dry-run")
    assert "1 new" in capsys.readouterr().out
    assert Member.objects.count() == 0


def test_the_sample_roster_in_the_docs_imports_cleanly():
    from pathlib import Path

    sample = Path(__file__).parents[2] / "docs" / "samples" / "roster.csv"
    with sample.open(encoding="utf-8-sig", newline="") as stream:
        report = import_roster(stream)
    assert report.ok, [str(e) for e in report.errors]
    assert report.created >= 5


def test_an_uploaded_file_with_a_byte_order_mark_is_read_as_the_back_office_will():
    raw = ("\n".join([HEADER, row(1)]) + "\n").encode("utf-8-sig")
    upload = io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8-sig", newline="")
    report = import_roster(upload)
    assert report.ok and report.created == 1
