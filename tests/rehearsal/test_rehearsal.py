"""The term-start rehearsal in CI: 200 simulated members with the default mix, against
the real vendor sandbox, on one moving clock (docs/rehearsal.md)."""

import pytest

from campusconf.rehearsal.mix import load_mix
from campusconf.rehearsal.run import Options, rehearse

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quiet_requests(caplog):
    caplog.set_level("WARNING", logger="httpx")


def test_two_hundred_members_are_active_by_day_15_without_staff(tmp_path):
    result = rehearse(Options(members=200, seed=1, mix=load_mix(), workdir=tmp_path))

    assert all(stuck.reason for stuck in result.stuck)
    assert result.staff_actions == 0, (result.inquiries, [s.reason for s in result.stuck])
    assert result.active_by_day(15) >= 0.99, [s.reason for s in result.stuck]
