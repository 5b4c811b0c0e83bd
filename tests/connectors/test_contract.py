"""The one contract every connector passes the same way, against a live server."""

from __future__ import annotations

from typing import Any

import pytest

from campusconf.connectors import (
    AlreadyExists,
    Created,
    NotFound,
    Ok,
    Outcome,
    Rejected,
    UnknownOutcome,
    UserSpec,
    UserState,
    VendorUser,
)
from campusconf.connectors.base import BatchRead, RestoresAddress
from tests.connectors.conftest import ConnectorCase


def _spec(case: ConnectorCase, **overrides: object) -> UserSpec:
    fields: dict[str, object] = {
        "email": case.address(),
        "first_name": "Taro",
        "last_name": "Yamada",
        "display_name": "Taro Yamada",
        "licensed": True,
    }
    fields.update(overrides)
    return UserSpec(**fields)  # type: ignore[arg-type]


def _user(outcome: Outcome) -> VendorUser:
    assert isinstance(outcome, Ok | Created), outcome
    assert outcome.user is not None
    return outcome.user


def _fetch(case: ConnectorCase, vendor_id: str) -> VendorUser:
    return _user(case.connector.get_user(vendor_id))


def test_a_user_goes_through_its_whole_life(connector_case: ConnectorCase):
    case, connector = connector_case, connector_case.connector
    spec = _spec(case)

    created = connector.create_user(spec)
    assert isinstance(created, Created), created
    user = created.user
    assert user.vendor_id and user.email.lower() == spec.email.lower()
    assert user.licensed
    expected = UserState.PENDING if connector.capabilities.invitations else UserState.ACTIVE
    assert user.state is expected
    vendor_id = user.vendor_id

    # Found by its address, and when the member's list starts with an alias the vendor lacks.
    assert _user(connector.find_by_address([spec.email])).vendor_id == vendor_id
    alias = case.address()
    assert _user(connector.find_by_address([alias, spec.email])).vendor_id == vendor_id
    assert isinstance(connector.find_by_address([alias]), NotFound)

    # A pending Zoom user read by id may be its id alone (Errata Z-c): partial, no address.
    fetched = _fetch(case, vendor_id)
    assert fetched.vendor_id == vendor_id
    assert fetched.partial or fetched.email.lower() == spec.email.lower()

    listed = [u for u in connector.iter_users(page_size=2) if u.email.lower() == spec.email.lower()]
    assert len(listed) == 1

    case.activate(user)
    assert _fetch(case, vendor_id).state is UserState.ACTIVE

    assert isinstance(connector.update_profile(vendor_id, first_name="Hanako"), Ok)
    renamed = _fetch(case, vendor_id)
    assert (renamed.first_name, renamed.last_name) == ("Hanako", "Yamada")

    assert isinstance(connector.set_licence(vendor_id, False), Ok)
    assert not _fetch(case, vendor_id).licensed
    assert isinstance(connector.set_licence(vendor_id, True), Ok)
    assert _fetch(case, vendor_id).licensed

    assert isinstance(connector.deactivate(vendor_id), Ok)
    assert _fetch(case, vendor_id).state is UserState.INACTIVE

    assert isinstance(connector.delete(vendor_id), Ok)
    assert isinstance(connector.get_user(vendor_id), NotFound)
    assert isinstance(connector.find_by_address([spec.email]), NotFound)


def test_a_second_create_of_one_address_is_already_exists(connector_case: ConnectorCase):
    spec = _spec(connector_case)
    assert isinstance(connector_case.connector.create_user(spec), Created)
    assert isinstance(connector_case.connector.create_user(spec), AlreadyExists)


def test_unknown_users_are_not_found(connector_case: ConnectorCase):
    connector = connector_case.connector
    assert isinstance(connector.find_by_address([connector_case.address()]), NotFound)
    created = connector.create_user(_spec(connector_case))
    assert isinstance(created, Created)
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    assert isinstance(connector.delete(vendor_id), Ok)
    assert isinstance(connector.get_user(vendor_id), NotFound)
    assert isinstance(connector.delete(vendor_id), NotFound)


def test_listing_pages_through_every_user(connector_case: ConnectorCase):
    connector = connector_case.connector
    addresses = set()
    for _ in range(5):
        spec = _spec(connector_case, licensed=False)
        assert isinstance(connector.create_user(spec), Created)
        addresses.add(spec.email.lower())
    listed = [u.email.lower() for u in connector.iter_users(page_size=2)]
    assert addresses <= set(listed)
    assert len(listed) == len(set(listed)), "a user was listed twice"
    unlicensed = [u for u in connector.iter_users() if u.email.lower() in addresses]
    assert not any(u.licensed for u in unlicensed)


def test_webex_reads_many_people_by_id_as_it_reads_one(webex_sandbox_case: ConnectorCase):
    """``GET /people?id=a,b,c`` (base.BatchRead, docs/vendors.md W-i): the people found, the
    same as read one by one; an id not found is left out."""
    connector_case = webex_sandbox_case
    connector = connector_case.connector
    assert isinstance(connector, BatchRead) and connector.max_batch == 85
    ids = []
    for licensed in (True, False):
        created = connector.create_user(_spec(connector_case, licensed=licensed))
        assert isinstance(created, Created) and created.user.vendor_id
        ids.append(created.user.vendor_id)
    gone = connector.create_user(_spec(connector_case))
    assert isinstance(gone, Created) and gone.user.vendor_id
    assert isinstance(connector.delete(gone.user.vendor_id), Ok)

    found = connector.get_users([*ids, gone.user.vendor_id])
    assert isinstance(found, dict), found
    assert sorted(found) == sorted(ids)  # the deleted one is left out: not found
    for vendor_id in ids:
        one = _fetch(connector_case, vendor_id)
        many = found[vendor_id]
        assert (many.email, many.state, many.licensed) == (one.email, one.state, one.licensed)
    assert found[ids[0]].licensed and not found[ids[1]].licensed


def test_reinvite_follows_the_declared_capabilities(connector_case: ConnectorCase):
    connector = connector_case.connector
    created = connector.create_user(_spec(connector_case))
    assert isinstance(created, Created)
    outcome = connector.reinvite(created.user)
    if not connector.capabilities.invitations:
        assert isinstance(outcome, Rejected)
        return
    if connector.capabilities.reinvite_replaces_user:
        assert isinstance(outcome, Created), outcome
        assert outcome.user.state is UserState.PENDING
        assert outcome.user.email.lower() == created.user.email.lower()
        found = connector.find_by_address([created.user.email])
        assert _user(found).vendor_id == outcome.user.vendor_id
    else:
        assert isinstance(outcome, Ok)


@pytest.mark.parametrize("licensed", [True, False])
def test_create_honours_the_licence(connector_case: ConnectorCase, licensed: bool):
    created = connector_case.connector.create_user(_spec(connector_case, licensed=licensed))
    assert isinstance(created, Created)
    assert created.user.licensed is licensed
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    fetched = _fetch(connector_case, vendor_id)
    if fetched.partial:  # a pending Zoom user read alone has no type (Z-c): the list has
        email = created.user.email.lower()
        fetched = next(u for u in connector_case.connector.iter_users() if u.email == email)
    assert fetched.licensed is licensed


def test_reactivate_brings_back_the_same_user_licensed(connector_case: ConnectorCase):
    """Suspend, then re-provision: the member keeps the user (its id, hence its meetings,
    recordings and settings) and its licence, instead of a new user and a new invitation."""
    case, connector = connector_case, connector_case.connector
    spec = _spec(case)
    created = connector.create_user(spec)
    assert isinstance(created, Created), created
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    case.activate(created.user)
    assert isinstance(connector.update_profile(vendor_id, first_name="Hanako"), Ok)
    assert isinstance(connector.deactivate(vendor_id), Ok)
    assert _fetch(case, vendor_id).state is UserState.INACTIVE

    back = _user(connector.reactivate(vendor_id))
    assert (back.vendor_id, back.state, back.licensed) == (vendor_id, UserState.ACTIVE, True)
    seen = _fetch(case, vendor_id)
    assert (seen.state, seen.licensed, seen.first_name) == (UserState.ACTIVE, True, "Hanako")

    # Idempotent: a retry after a lost answer finds it done.
    assert _user(connector.reactivate(vendor_id)).state is UserState.ACTIVE
    listed = [u for u in connector.iter_users() if u.email.lower() == spec.email.lower()]
    assert [u.vendor_id for u in listed] == [vendor_id]


def test_reactivate_of_an_unknown_user_is_not_found(connector_case: ConnectorCase):
    connector = connector_case.connector
    created = connector.create_user(_spec(connector_case))
    assert isinstance(created, Created)
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    assert isinstance(connector.delete(vendor_id), Ok)
    assert isinstance(connector.reactivate(vendor_id), NotFound)


def test_reactivate_of_a_user_who_never_signed_in_follows_the_vendor(
    connector_case: ConnectorCase,
):
    """Zoom cannot deactivate or activate a pending user: reactivate refuses it. Webex
    can disable a person who never signed in; reactivated, it is pending again. SCIM has
    no pending state: the user comes back active."""
    connector = connector_case.connector
    created = connector.create_user(_spec(connector_case))
    assert isinstance(created, Created)
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    if connector_case.name == "zoom":
        assert isinstance(connector.reactivate(vendor_id), Rejected)
        assert _fetch(connector_case, vendor_id).state is UserState.PENDING
        return
    assert isinstance(connector.deactivate(vendor_id), Ok)
    back = _user(connector.reactivate(vendor_id))
    expected = UserState.PENDING if connector.capabilities.invitations else UserState.ACTIVE
    assert (back.vendor_id, back.state, back.licensed) == (vendor_id, expected, True)
    assert _fetch(connector_case, vendor_id).state is expected


def test_webex_reactivate_survives_a_put_that_failed_half_way(
    webex_sandbox_case: ConnectorCase, sandbox: Any
):
    """docs/vendors.md (W-d): a failed Webex PUT may have changed some fields. The sandbox's fault
    writes sign-in as sent but empties the licences, then answers 500."""
    case, connector = webex_sandbox_case, webex_sandbox_case.connector
    created = connector.create_user(_spec(case))
    assert isinstance(created, Created)
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    case.activate(created.user)
    assert isinstance(connector.deactivate(vendor_id), Ok)

    sandbox.admin_response("PUT", "faults", json={"webex_put_partial_rate": 1.0}).raise_for_status()
    # The PUT and the connector's one attempt to put the person back both fail half-way.
    assert isinstance(connector.reactivate(vendor_id), UnknownOutcome)
    half = _fetch(case, vendor_id)
    assert half.state is UserState.ACTIVE and not half.licensed  # what the fault left
    sandbox.admin_response("DELETE", "faults").raise_for_status()

    # The engine's retry: sign-in is on already, and the licence is given back.
    back = _user(connector.reactivate(vendor_id))
    assert (back.vendor_id, back.state, back.licensed) == (vendor_id, UserState.ACTIVE, True)
    seen = _fetch(case, vendor_id)
    assert (seen.state, seen.licensed) == (UserState.ACTIVE, True)


def test_restore_address_puts_the_university_address_and_the_licence_back(
    connector_case: ConnectorCase,
):
    """S9: the member changed the address at the vendor and lost the licence with it."""
    case, connector = connector_case, connector_case.connector
    spec = _spec(case)
    created = connector.create_user(spec)
    assert isinstance(created, Created), created
    if not isinstance(connector, RestoresAddress):
        # (After the create: each case's recorder expects at least one exchange.)
        pytest.skip("only connectors that can put an address back have this call (Webex)")
    vendor_id = created.user.vendor_id
    assert vendor_id is not None
    case.activate(created.user)
    # The member's change as the vendor leaves it: another address, no licence.
    assert isinstance(connector.restore_address(vendor_id, "moved@private.example"), Ok)
    assert isinstance(connector.set_licence(vendor_id, False), Ok)
    assert _fetch(case, vendor_id).email == "moved@private.example"

    back = _user(connector.restore_address(vendor_id, spec.email))
    assert (back.email.lower(), back.licensed) == (spec.email.lower(), True)
    seen = _fetch(case, vendor_id)
    assert (seen.email.lower(), seen.licensed, seen.state) == (
        spec.email.lower(),
        True,
        UserState.ACTIVE,
    )
