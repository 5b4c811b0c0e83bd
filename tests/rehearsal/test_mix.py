"""The rehearsal's mix file, its seeded cohort and the command's refusals."""

import dataclasses

import pytest
from django.core.management import CommandError, call_command

from campusconf.rehearsal.cohort import draw_cohort
from campusconf.rehearsal.mix import DEFAULT_MIX, MixError, load_mix


def test_the_default_mix_is_the_issues(tmp_path):
    mix = load_mix()
    assert mix.never_first_share == 0.05
    assert mix.zoom_google_share == 0.10
    assert mix.personal_account_share == 0.03
    assert mix.change_address_share == 0.02
    assert mix.not_activated_share == 0.05
    assert mix.consistency_delay_seconds > 0 and mix.error_rate > 0 and mix.timeout_rate > 0


def test_a_share_out_of_range_is_refused_with_its_name(tmp_path):
    bad = tmp_path / "mix.toml"
    bad.write_text(
        DEFAULT_MIX.read_text().replace("zoom_google_share = 0.10", "zoom_google_share = 10")
    )
    with pytest.raises(MixError, match="zoom_google_share must be a share between 0 and 1"):
        load_mix(bad)


def test_mail_shares_must_add_up(tmp_path):
    bad = tmp_path / "mix.toml"
    bad.write_text(
        DEFAULT_MIX.read_text().replace("never_first_share = 0.05", "never_first_share = 0.5")
    )
    with pytest.raises(MixError, match="add up to"):
        load_mix(bad)


def traits(cohort):
    return [{k: v for k, v in dataclasses.asdict(m).items() if k != "rng"} for m in cohort]


def test_a_cohort_is_the_same_for_the_same_seed_and_differs_for_another():
    mix = load_mix()
    assert traits(draw_cohort(mix, 300, 7)) == traits(draw_cohort(mix, 300, 7))
    assert traits(draw_cohort(mix, 300, 7)) != traits(draw_cohort(mix, 300, 8))
    cohort = draw_cohort(mix, 2000, 1)
    google = sum(m.google_on_zoom for m in cohort) / len(cohort)
    inactive = sum(m.mailbox_inactive for m in cohort) / len(cohort)
    assert 0.07 < google < 0.13 and 0.03 < inactive < 0.07


def test_rehearse_is_refused_outside_the_development_settings(settings):
    settings.SETTINGS_MODULE = "campusconf.settings.production"
    with pytest.raises(CommandError, match="development tool"):
        call_command("rehearse", "--members", "5")


def test_a_bad_mix_file_stops_the_command_before_anything_starts(settings, tmp_path):
    settings.SETTINGS_MODULE = "campusconf.settings.test"
    with pytest.raises(CommandError, match="cannot read the mix"):
        call_command("rehearse", "--mix", str(tmp_path / "missing.toml"))
