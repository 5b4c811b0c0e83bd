"""What /my/ costs in statements: pinned, so a change that adds one per card, or one per
page, fails here instead of in the term-start rush (bench/rush.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campusconf.accounts.states import State
from campusconf.services.catalogue import enabled_services

# session, user with its member (one join, read once for the middleware and the page),
# the member's addresses, the member's accounts (with whether the member's mailbox
# refuses our mail: the rehearsal's repair, then the page says so), the invited card's
# resend limit, the other card's place in the seat queue, the watch rows of the waiting
# account (the member has its card open, so the engine reads it sooner), and the staff
# check behind the back office's nav link.
MY_SERVICES_STATEMENTS = 8
# An unchanged card's refresh: session, user with its member, the account, its watch.
IDLE_CARD_STATEMENTS = 4


def _statements(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/my/")
    assert response.status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


@pytest.mark.django_db
def test_my_services_statements_are_pinned(signed_in, make_service, account_in):
    webex = make_service()
    make_service(slug="zoom", vendor="zoom", name_en="Zoom", seats=10)
    account_in(signed_in.member, webex, State.INVITED)
    signed_in.get("/my/")  # the process reads the services on its first page

    statements = _statements(signed_in)

    assert len(statements) == MY_SERVICES_STATEMENTS, "\n".join(statements)
    assert not any('FROM "services_service"' in sql for sql in statements)


@pytest.mark.django_db
def test_a_card_more_costs_no_page_statement_more(signed_in, make_service, account_in):
    """A second invited card adds its own resend check, not member or address reads."""
    webex = make_service()
    zoom = make_service(slug="zoom", vendor="zoom", name_en="Zoom")
    account_in(signed_in.member, webex, State.INVITED)
    signed_in.get("/my/")
    one = _statements(signed_in)
    account_in(signed_in.member, zoom, State.INVITED)

    two = _statements(signed_in)

    added = [sql for sql in two if 'FROM "members_' in sql]
    assert len(added) == len([sql for sql in one if 'FROM "members_' in sql]) == 1


@pytest.mark.django_db
def test_a_changed_service_shows_at_once_in_this_process(signed_in, make_service):
    webex = make_service(plan_name="Enterprise")
    assert [s.plan_name for s in enabled_services()] == ["Enterprise"]

    webex.plan_name = "Enterprise Plus"
    webex.save()

    assert [s.plan_name for s in enabled_services()] == ["Enterprise Plus"]
    assert "Enterprise Plus" in signed_in.get("/my/").content.decode()
    webex.delete()
    assert enabled_services() == []
