"""The back office's rehearsal page: the form, its checks, the start out of the request,
the refusal outside development settings, and a finished run's projection."""

import json
import os
from pathlib import Path

import pytest

from campusconf.backoffice import rehearsal_runs
from campusconf.rehearsal.mix import DEFAULT_MIX

pytestmark = pytest.mark.django_db


class FakeProcess:
    pid = os.getpid()  # a process that is there, as the rehearsal's would be


@pytest.fixture
def started(settings, tmp_path, monkeypatch):
    """The page's var/ in a temporary folder; the processes it would start, recorded."""
    settings.VAR_DIR = tmp_path
    # An overridden settings object names no module of its own: say which it stands for.
    settings.SETTINGS_MODULE = "campusconf.settings.test"
    calls = []

    def popen(args, **kwargs):
        calls.append((args, kwargs))
        return FakeProcess()

    monkeypatch.setattr(rehearsal_runs.subprocess, "Popen", popen)
    return calls


def _form(**overrides):
    form = {
        "members": "10",
        "seed": "7",
        "mix_text": DEFAULT_MIX.read_text(encoding="utf-8"),
        "cohort_zoom": "30000",
        "cohort_webex": "0",
    }
    form.update(overrides)
    return form


@pytest.fixture
def services(make_service):
    zoom = make_service(
        "zoom", "zoom", name_en="Zoom", connector_settings={"plan": "business", "base_url": "x"}
    )
    return make_service(), zoom


def test_the_page_asks_for_each_services_real_cohort(staff_client, services, started):
    page = staff_client.get("/staff/rehearsal/").content.decode()
    assert 'name="cohort_webex"' in page and 'name="cohort_zoom"' in page
    assert "Real cohort at Zoom" in page
    assert "[cohort]" in page  # the default mix, to edit


def test_a_bad_mix_is_refused_with_its_fault_and_nothing_starts(staff_client, services, started):
    text = DEFAULT_MIX.read_text(encoding="utf-8").replace(
        "zoom_google_share = 0.10", "zoom_google_share = 1.5"
    )
    response = staff_client.post("/staff/rehearsal/", _form(mix_text=text))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The mix is refused, nothing was started" in page
    assert "zoom_google_share must be a share between 0 and 1" in page
    assert started == []
    assert rehearsal_runs.recent() == []


def test_no_cohort_at_all_is_refused(staff_client, services, started):
    page = staff_client.post("/staff/rehearsal/", _form(cohort_zoom="0")).content.decode()
    assert "Enter the real cohort of at least one service." in page
    assert started == []


def test_a_start_runs_the_command_out_of_the_request_with_the_real_limits(
    staff_client, services, started, settings
):
    response = staff_client.post("/staff/rehearsal/", _form())
    [(args, kwargs)] = started
    run_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert response["Location"] == f"/staff/rehearsal/{run_id}/"
    folder = Path(settings.VAR_DIR) / "rehearsal" / "staff" / run_id
    assert kwargs["cwd"] == folder and kwargs["start_new_session"] is True
    assert "DATABASE_URL" not in kwargs["env"]
    assert args[:2] == ["/bin/sh", "-c"]
    assert "rehearse" in args and "--members=10" in args and "--seed=7" in args
    assert f"--workdir={folder}" in args and "--manual=off" in args
    # Zoom Business: 80 calls/s × 0.97 × 60 ÷ 2 = 2,328 creates a minute, 10,000 a day;
    # Webex left at 0 is not projected.
    cohorts = json.loads((folder / "cohorts.json").read_text())
    assert cohorts == [
        {"service": "zoom", "members": 30000, "creates_per_minute": 2328.0, "daily_cap": 10000}
    ]
    page = staff_client.get(response["Location"]).content.decode()
    assert 'data-state="running"' in page and 'hx-get="?part=progress"' in page


def _finished(folder: Path) -> None:
    (folder / "output.log").write_text(
        "Rehearsing 10 members (campusconf)…\nINFO rehearsal day 1: {}\nINFO rehearsal day 2: {}\n"
    )
    (folder / "report-fragment.html").write_text("<h2>Side by side</h2><p>the report</p>")
    projection = [
        {
            "service": "zoom",
            "members": 30000,
            "creates_per_minute": 2328.0,
            "daily_cap": 10000,
            "last_invitation_day": 3,
            "last_invitation_hours": 48.07,
            "slowest_hours": 20.0,
            "last_active_day": 3,
        }
    ]
    (folder / "projection.json").write_text(json.dumps(projection))
    (folder / "exit-code").write_text("0\n")


def test_progress_then_the_report_in_both_languages(staff_client, services, started, settings):
    response = staff_client.post("/staff/rehearsal/", _form())
    folder = Path(settings.VAR_DIR) / "rehearsal" / "staff" / response["Location"].split("/")[-2]
    (folder / "output.log").write_text(
        "Rehearsing 10 members (campusconf)…\nINFO rehearsal day 4: {}\n"
    )
    progress = staff_client.get(response["Location"] + "?part=progress").content.decode()
    assert "Running: pass 1 of 1, simulated day 4 of 15." in progress
    assert 'aria-label="27 % done"' in progress  # 4 of 15 days

    _finished(folder)
    page = staff_client.get(response["Location"]).content.decode()
    assert 'data-state="done"' in page and "hx-get" not in page
    assert "the last member will be active on day 3" in page
    assert '<section id="rehearsal-report" lang="en">' in page and "the report" in page
    ja = staff_client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "3日目" in ja


def test_a_run_that_ended_badly_shows_what_it_printed(staff_client, services, started, settings):
    response = staff_client.post("/staff/rehearsal/", _form())
    folder = Path(settings.VAR_DIR) / "rehearsal" / "staff" / response["Location"].split("/")[-2]
    (folder / "output.log").write_text("CommandError: the sandbox did not start\n")
    (folder / "exit-code").write_text("1\n")
    page = staff_client.get(response["Location"]).content.decode()
    assert "The rehearsal stopped with an error" in page
    assert "the sandbox did not start" in page


def test_an_unknown_or_malformed_run_is_not_found(staff_client, started):
    assert staff_client.get("/staff/rehearsal/20260101-000000-abcdef/").status_code == 404
    assert staff_client.get("/staff/rehearsal/..%2F..%2Fetc/").status_code == 404


def test_outside_development_settings_the_page_says_so_and_starts_nothing(
    staff_client, services, started, settings
):
    settings.SETTINGS_MODULE = "campusconf.settings.production"
    page = staff_client.get("/staff/rehearsal/").content.decode()
    assert "The rehearsal cannot be started on this installation." in page
    assert 'id="rehearsal-form"' not in page
    staff_client.post("/staff/rehearsal/", _form())
    assert started == []
