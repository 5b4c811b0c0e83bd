"""The term-start rehearsal in CI: 200 simulated members with the default mix, against
the real vendor sandbox, on one moving clock (docs/rehearsal.md).

CAMPUSCONF_REHEARSAL_MEMBERS changes the size (a quick look at the path: 20).
"""

import os

import pytest
from django.db import connection

from campusconf.rehearsal.mix import load_mix
from campusconf.rehearsal.report import html_report, markdown_table
from campusconf.rehearsal.run import Options, rehearse

pytestmark = pytest.mark.django_db(transaction=True)

MEMBERS = int(os.environ.get("CAMPUSCONF_REHEARSAL_MEMBERS", "200"))


@pytest.mark.skipif(
    connection.vendor == "postgresql",
    reason="the rehearsal measures what members meet, not the database: it runs once per "
    "CI run, in the SQLite pass (PostgreSQL under load is the 2,000-account soak's)",
)
def test_members_are_active_by_day_15_without_staff(tmp_path):
    result = rehearse(Options(members=MEMBERS, seed=1, mix=load_mix(), workdir=tmp_path))
    (tmp_path / "report.html").write_text(html_report([result], seed=1, mix_name="default"))
    why = f"\n{markdown_table([result])}\n" + "\n".join(
        f"{s.common_id}: {s.reason} | told: {s.told} | {s.history}" for s in result.stuck
    )

    assert all(stuck.reason for stuck in result.stuck), why
    assert result.staff_actions == 0, f"{result.inquiries}{why}"
    assert result.active_by_day(15) >= 0.99, why
