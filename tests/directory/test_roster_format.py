"""Reading a CSV roster: every error code, the row a clean line becomes, blank lines.

No database: roster_format only reads and checks. Expected rows and errors are
written out by hand from docs/directory.md's format.
"""

import datetime

import pytest
from django.utils import translation

from campusconf.directory.roster_format import (
    MEMBER_FIELDS,
    RosterRow,
    RowError,
    check_header,
    parse_row,
    read_rows,
)

HEADER = (
    "common_id,family_name_ja,given_name_ja,family_name_latin,given_name_latin,affiliation,"
    "roles,university_account_created_on,mail_address,aliases,preferred_language,status,left_on"
)
GOOD = {
    "common_id": "1000000001",
    "family_name_ja": "山田",
    "given_name_ja": "花子",
    "family_name_latin": "Yamada",
    "given_name_latin": "Hanako",
    "affiliation": "Faculty of Letters",
    "roles": "student",
    "university_account_created_on": "2021-04-01",
    "mail_address": "1000000001@g.ecc.example.ac.jp",
    "aliases": "",
    "preferred_language": "",
    "status": "",
    "left_on": "",
}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def errors_of(**over: str) -> list[tuple[str, str, str]]:
    row, errors = parse_row(7, {**GOOD, **over})
    assert row is None
    assert all(e.line == 7 for e in errors)
    return [(e.field, e.code, e.message) for e in errors]


def test_a_clean_row_becomes_this_member():
    row, errors = parse_row(
        3,
        {
            **GOOD,
            "family_name_latin": "  Yamada ",
            "affiliation_ja": " 文学部 ",
            "roles": "staff, faculty;staff",
            "aliases": "h.yamada@example.ac.jp; hy@example.ac.jp",
            "preferred_language": "EN",
            "status": "Left",
            "left_on": "2026-03-31",
        },
    )
    assert errors == []
    assert row == RosterRow(
        line=3,
        common_id="1000000001",
        family_name_ja="山田",
        given_name_ja="花子",
        family_name_latin="Yamada",
        given_name_latin="Hanako",
        affiliation="Faculty of Letters",
        affiliation_ja="文学部",
        roles="faculty staff",
        university_account_created_on=datetime.date(2021, 4, 1),
        preferred_language="en",
        left_on=datetime.date(2026, 3, 31),
        addresses=(
            "1000000001@g.ecc.example.ac.jp",
            "h.yamada@example.ac.jp",
            "hy@example.ac.jp",
        ),
    )
    assert row.status == "left"
    assert dict(zip(MEMBER_FIELDS, row.member_values(), strict=True)) == {
        "family_name_ja": "山田",
        "given_name_ja": "花子",
        "family_name_latin": "Yamada",
        "given_name_latin": "Hanako",
        "affiliation": "Faculty of Letters",
        "affiliation_ja": "文学部",
        "roles": "faculty staff",
        "status": "left",
        "left_on": datetime.date(2026, 3, 31),
        "university_account_created_on": datetime.date(2021, 4, 1),
        "preferred_language": "en",
    }


def test_a_roster_without_the_japanese_affiliation_column_still_reads():
    """Files made before the column existed: HEADER has no affiliation_ja."""
    assert "affiliation_ja" not in HEADER
    rows = list(read_rows([HEADER, ",".join(GOOD[name] for name in HEADER.split(","))]))
    assert rows[0] == (None, [])
    row, errors = rows[1]
    assert errors == []
    assert (row.affiliation, row.affiliation_ja) == ("Faculty of Letters", "")


def test_the_japanese_affiliation_column_is_read():
    header = HEADER.replace(",affiliation,", ",affiliation,affiliation_ja,")
    cells = {**GOOD, "affiliation_ja": "文学部"}
    row, errors = list(read_rows([header, ",".join(cells[n] for n in header.split(","))]))[1]
    assert errors == []
    assert (row.affiliation, row.affiliation_ja) == ("Faculty of Letters", "文学部")


def test_blank_status_and_language_mean_active_and_japanese():
    row, _ = parse_row(2, GOOD)
    assert (row.status, row.left_on, row.preferred_language) == ("active", None, "ja")


def test_shared_values_are_one_object_across_rows():
    shared: dict[object, object] = {}
    first, _ = parse_row(2, dict(GOOD), shared)
    second, _ = parse_row(3, {k: "".join(v) for k, v in GOOD.items()}, shared)
    assert first.affiliation is second.affiliation
    assert first.roles is second.roles
    assert first.university_account_created_on is second.university_account_created_on


# Every code a row can be refused with: (changed cells) -> [(field, code, message)].
ROW_ERRORS = [
    (
        {"common_id": "123456789"},
        [("common_id", "common_id_format", "A common ID is exactly 10 digits.")],
    ),
    (
        {"common_id": "１２３４５６７８９０"},
        [("common_id", "common_id_format", "A common ID is exactly 10 digits.")],
    ),
    (
        {"common_id": "12345678901"},
        [("common_id", "common_id_format", "A common ID is exactly 10 digits.")],
    ),
    ({"family_name_latin": " "}, [("family_name_latin", "required", "This field is required.")]),
    ({"given_name_latin": ""}, [("given_name_latin", "required", "This field is required.")]),
    ({"family_name_ja": "山" * 101}, [("family_name_ja", "too_long", "At most 100 characters.")]),
    ({"affiliation": "a" * 201}, [("affiliation", "too_long", "At most 200 characters.")]),
    (
        {"affiliation_ja": "理" * 201},
        [("affiliation_ja", "too_long", "At most 200 characters.")],
    ),
    (
        {"affiliation": "", "affiliation_ja": "理学部"},
        [
            (
                "affiliation_ja",
                "affiliation_ja_alone",
                "A Japanese affiliation needs the English one in the affiliation column.",
            )
        ],
    ),
    ({"roles": " ; "}, [("roles", "required", "A member needs at least one role.")]),
    (
        {"roles": "student dean alumni"},
        [
            (
                "roles",
                "unknown_role",
                "Unknown role alumni, dean: roles must be among faculty, staff, student.",
            )
        ],
    ),
    (
        {"university_account_created_on": "2021/04/01"},
        [
            (
                "university_account_created_on",
                "date_format",
                "A date is written YYYY-MM-DD, for example 2024-04-01.",
            )
        ],
    ),
    (
        {"university_account_created_on": "2021-02-30"},
        [
            (
                "university_account_created_on",
                "date_format",
                "A date is written YYYY-MM-DD, for example 2024-04-01.",
            )
        ],
    ),
    ({"status": "gone"}, [("status", "unknown_status", "The status is either active or left.")]),
    (
        {"status": "left", "left_on": "31.03.2026"},
        [("left_on", "date_format", "A date is written YYYY-MM-DD, for example 2024-04-01.")],
    ),
    (
        {"status": "left"},
        [("left_on", "required", "A member who has left needs the date they left.")],
    ),
    (
        {"left_on": "2026-03-31"},
        [("left_on", "unexpected", "Only a member who has left has a leaving date.")],
    ),
    (
        {"preferred_language": "de"},
        [("preferred_language", "unknown_language", "The language is either ja or en.")],
    ),
    (
        {"mail_address": ""},
        [("mail_address", "required", "A member needs a university mail address.")],
    ),
    (
        {"mail_address": "not-an-address"},
        [("mail_address", "invalid_address", "not-an-address is not a valid mail address.")],
    ),
    (
        {"aliases": "ok@example.ac.jp, broken@"},
        [("aliases", "invalid_address", "broken@ is not a valid mail address.")],
    ),
    (
        {"mail_address": "a" * 243 + "@example.jp"},  # 254 characters: the most there is
        [],
    ),
    ({"family_name_ja": "山" * 100, "affiliation": "a" * 200}, []),  # the longest allowed
    (
        {"mail_address": "a" * 244 + "@example.jp"},
        [
            (
                "mail_address",
                "invalid_address",
                f"{'a' * 244}@example.jp is not a valid mail address.",
            )
        ],
    ),
    (
        {"aliases": "1000000001@G.ECC.example.ac.jp"},
        [("aliases", "duplicate_address", "The same address is listed twice.")],
    ),
    # Without a primary address the first alias is still an alias.
    (
        {"mail_address": "", "aliases": "x@example.ac.jp x@example.ac.jp"},
        [
            ("mail_address", "required", "A member needs a university mail address."),
            ("aliases", "duplicate_address", "The same address is listed twice."),
        ],
    ),
]


@pytest.mark.parametrize(("over", "expected"), ROW_ERRORS)
def test_every_row_error_code(over, expected):
    if not expected:
        row, errors = parse_row(7, {**GOOD, **over})
        assert row is not None and errors == []
    else:
        assert errors_of(**over) == expected


def test_a_row_longer_than_the_header_is_refused():
    # csv.DictReader puts the surplus cells of a long row under the key None.
    row, errors = parse_row(7, {**GOOD, None: ["surplus"]})  # type: ignore[dict-item]
    assert row is None
    assert errors == [
        RowError(7, "-", "too_many_cells", "The row has more cells than the header has columns.")
    ]


def test_every_problem_of_a_row_is_reported_at_once():
    codes = [code for _, code, _ in errors_of(common_id="x", roles="", preferred_language="fr")]
    assert codes == ["common_id_format", "required", "unknown_language"]


def test_a_row_error_reads_line_field_and_message():
    assert str(RowError(4, "roles", "required", "A member needs at least one role.")) == (
        "line 4, roles: A member needs at least one role."
    )


def test_header_errors_by_code():
    assert check_header(None) == [
        RowError(1, "-", "empty", "The file is empty: it needs a header line.")
    ]
    assert check_header([" common_id ", *HEADER.split(",")[1:]]) == []
    header = [n for n in HEADER.split(",") if n != "roles"] + ["nickname", "aliases"]
    assert check_header(header) == [
        RowError(1, "nickname", "unknown_column", "Unknown column."),
        RowError(1, "roles", "missing_column", "This column is required."),
        RowError(1, "aliases", "duplicate_column", "This column appears twice."),
    ]


def lines(*rows: str) -> list[str]:
    return [HEADER + "\n", *(r + "\n" for r in rows)]


def good_line(common_id: str) -> str:
    return ",".join({**GOOD, "common_id": common_id, "mail_address": f"{common_id}@x.jp"}.values())


def test_a_blank_line_does_not_end_the_roster():
    # A full import treats everyone missing from the roster as having left: a blank line
    # that ended the reading would mark every member after it as a leaver.
    read = list(
        read_rows(lines(good_line("1000000001"), "", " , , ", ",", good_line("1000000002")))
    )
    assert read[0] == (None, [])  # the header, clean
    assert [(row.line, row.common_id) for row, _ in read[1:]] == [
        (2, "1000000001"),
        (6, "1000000002"),
    ]


def test_a_bad_header_stops_the_reading():
    read = list(read_rows(["name,roles\n", "x,student\n"]))
    assert len(read) == 1
    assert [e.code for e in read[0][1]] == ["unknown_column"] + ["missing_column"] * 5


def test_an_empty_file_is_told_so():
    assert list(read_rows([])) == [
        (None, [RowError(1, "-", "empty", "The file is empty: it needs a header line.")])
    ]


def test_a_broken_csv_line_ends_the_reading_with_its_line_number():
    huge = "x" * 200_000  # beyond the csv module's field size limit
    read = list(read_rows(lines(good_line("1000000001"), huge, good_line("1000000002"))))
    assert read[1][0].common_id == "1000000001"
    row, errors = read[2]
    assert row is None and len(read) == 3
    assert [(e.line, e.field, e.code) for e in errors] == [(3, "-", "csv")]
    assert errors[0].message.startswith("Not a CSV file: field larger than field limit")


def test_a_broken_header_is_told_so():
    read = list(read_rows(["x" * 200_000 + "\n"]))
    assert len(read) == 1
    (error,) = read[0][1]
    assert (error.line, error.field, error.code) == (1, "-", "csv")
    assert error.message.startswith("Not a CSV file: ")


def test_a_roster_shares_repeated_values_between_its_rows():
    read = list(read_rows(lines(good_line("1000000001"), good_line("1000000002"))))
    first, second = read[1][0], read[2][0]
    assert first.affiliation is second.affiliation  # one copy for a large roster
