"""Every write from the command line is in the audit log, with the OS user as its actor."""

import io
import os
import pwd
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from campusconf.audit.cli import os_user, record_cli
from campusconf.audit.models import AuditEntry
from campusconf.directory.models import ScimClient
from tests.core import servers

pytestmark = pytest.mark.django_db
ROSTER = Path(__file__).resolve().parents[2] / "docs" / "samples" / "roster.csv"
ME = pwd.getpwuid(os.geteuid()).pw_name


def cli(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_the_actor_is_the_os_user_marked_cli(monkeypatch):
    monkeypatch.setenv("USER", "someone-else")  # the environment does not decide
    monkeypatch.setenv("SUDO_USER", "alice")
    entry = record_cli("test.cli", None, "a reason", extra=1)
    assert os_user() == ME
    assert entry.actor_id is None
    assert entry.actor_name == f"cli:{ME}"
    assert entry.details == {"via": "cli", "os_user": ME, "sudo_user": "alice", "extra": 1}


def test_scim_token_create_and_revoke_are_audited():
    cli("scim-token", "create", "entra-id", "--scope", "read,write")
    client = ScimClient.objects.get(name="entra-id")
    created = AuditEntry.objects.get(action="directory.scim_client_create")
    assert (created.actor_name, created.target_id) == (f"cli:{ME}", str(client.pk))
    assert created.reason == "scim-token create entra-id --scope read,write"
    cli("scim-token", "revoke", "entra-id")
    assert AuditEntry.objects.filter(action="directory.scim_client_revoke").count() == 1


def test_a_refused_scim_token_create_writes_no_entry():
    cli("scim-token", "create", "entra-id", "--scope", "read,write")
    with pytest.raises(CommandError, match="already exists"):
        cli("scim-token", "create", "entra-id", "--scope", "read,write")
    assert AuditEntry.objects.filter(action="directory.scim_client_create").count() == 1


def test_a_roster_import_is_audited_and_a_dry_run_is_not():
    cli("import-roster", str(ROSTER), "--dry-run")
    assert not AuditEntry.objects.filter(action="directory.roster_import").exists()
    cli("import-roster", str(ROSTER))
    entry = AuditEntry.objects.get(action="directory.roster_import")
    # The roster acted, started from the command line by this OS user.
    assert (entry.actor_name, entry.actor_kind) == (f"roster:cli:{ME}", "roster")
    assert (entry.details["started_by"], entry.details["os_user"]) == ("cli", ME)
    assert entry.details["rows"] > 0
    assert entry.details["created"] == entry.details["rows"]
    assert entry.details["file"] == str(ROSTER)


def test_createsuperuser_through_the_campusconf_command_is_audited(tmp_path):
    """Django's own command, run as an operator would: the ``campusconf`` entry point."""
    with servers.fresh_database(tmp_path) as url:
        env = servers.server_env(
            tmp_path,
            url,
            DJANGO_SUPERUSER_PASSWORD="a-long-break-glass-passphrase",
            DJANGO_SUPERUSER_EMAIL="root@example.ac.jp",
        )
        assert servers.campusconf(env, "migrate", "--no-input").returncode == 0
        made = servers.campusconf(env, "createsuperuser", "--no-input", "--username", "breakglass")
        assert made.returncode == 0, made.stderr[-2000:]
        failed = servers.campusconf(
            env, "createsuperuser", "--no-input", "--username", "breakglass"
        )
        assert failed.returncode != 0  # exists already: nothing to audit
        read = subprocess.run(
            [sys.executable, "-m", "campusconf.cli", "shell", "-c",
             "from campusconf.audit.models import AuditEntry as A;"
             "print([(e.action, e.actor_name, e.reason) for e in A.objects.all()])"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert read.stdout.strip().splitlines()[-1] == str(
        [
            (
                "auth.createsuperuser",
                f"cli:{ME}",
                "campusconf createsuperuser --no-input --username breakglass",
            )
        ]
    ), read.stderr[-2000:]
