"""The rules that bind an asserted identifier to its IdP, one at a time."""

import pytest

from campusconf.signin.federation import (
    AssertedId,
    FederationRefused,
    ScopeRule,
    check_id_token,
    check_scope,
    split_identifier,
)
from campusconf.signin.members import SignInRefused


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1234567890", ("1234567890", "")),
        ("1234567890@UTAC.example.ac.jp", ("1234567890", "utac.example.ac.jp")),
        (
            ["1234567890@utac.example.ac.jp", "1234567890@utac.example.ac.jp"],
            ("1234567890", "utac.example.ac.jp"),
        ),
    ],
)
def test_the_scope_is_kept(value, expected):
    assert split_identifier(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        None,
        [],
        "123456789@utac.example.ac.jp",  # nine digits
        "1234567890@",  # an empty scope
        "1234567890@utac example",  # not a domain
        "1234567890@utac.example.ac.jp@other.example",
        ["1234567890@utac.example.ac.jp", "1234567891@utac.example.ac.jp"],  # which one?
    ],
)
def test_values_that_do_not_name_one_person_are_refused(value):
    with pytest.raises(SignInRefused) as refusal:
        split_identifier(value)
    assert refusal.value.code == "no_common_id"


def asserted(scope: str) -> AssertedId:
    return AssertedId("1234567890", scope, "https://idp.example/")


def test_metadata_scopes_literal_and_regexp():
    rules = [ScopeRule("utac.example.ac.jp"), ScopeRule(r"^[a-z]+\.utac\.example\.ac\.jp$", True)]
    check_scope(asserted("utac.example.ac.jp"), rules, set())
    check_scope(asserted("med.utac.example.ac.jp"), rules, set())
    for outside in ("example.ac.jp", "med.utac.example.ac.jp.evil.example", "xutac.example.ac.jp"):
        with pytest.raises(FederationRefused):
            check_scope(asserted(outside), rules, set())


def test_the_universitys_scopes_narrow_what_metadata_allows():
    rules = [ScopeRule("utac.example.ac.jp"), ScopeRule("partner.example")]
    check_scope(asserted("utac.example.ac.jp"), rules, {"utac.example.ac.jp"})
    with pytest.raises(FederationRefused) as refusal:
        check_scope(asserted("partner.example"), rules, {"utac.example.ac.jp"})
    assert refusal.value.code == "scope_not_accepted"


def test_a_scope_with_nothing_to_check_it_against_is_refused():
    with pytest.raises(FederationRefused):
        check_scope(asserted("utac.example.ac.jp"), None, set())
    check_scope(asserted("utac.example.ac.jp"), None, {"utac.example.ac.jp"})
    check_scope(asserted(""), None, set())  # unscoped: the IdP check alone applies


@pytest.fixture
def oidc_settings(settings):
    settings.OIDC_OP_ISSUER = "https://op.example"
    settings.OIDC_RP_CLIENT_ID = "campusconf"


@pytest.mark.usefixtures("oidc_settings")
@pytest.mark.parametrize(
    "changes",
    [
        {"iss": "https://op.example/other-tenant"},
        {"iss": None},
        {"aud": "another-client"},
        {"aud": ["campusconf", "another-client"]},  # several audiences and no azp
        {"aud": ["campusconf", "another-client"], "azp": "another-client"},
        {"sub": ""},
    ],
)
def test_id_tokens_for_someone_else_are_refused(changes):
    payload = {"iss": "https://op.example", "aud": "campusconf", "sub": "s1", **changes}
    with pytest.raises(FederationRefused) as refusal:
        check_id_token(payload)
    assert refusal.value.code == "idp_not_accepted"


@pytest.mark.usefixtures("oidc_settings")
def test_an_id_token_for_us_from_our_issuer_passes():
    assert check_id_token({"iss": "https://op.example", "aud": "campusconf", "sub": "s"})
    several = {"iss": "https://op.example", "aud": ["campusconf", "x"], "azp": "campusconf"}
    assert check_id_token({**several, "sub": "s"}) == "https://op.example"


def test_no_configured_issuer_trusts_no_token(settings):
    settings.OIDC_OP_ISSUER = ""
    settings.OIDC_RP_CLIENT_ID = "campusconf"
    with pytest.raises(FederationRefused):
        check_id_token({"iss": "", "aud": "campusconf", "sub": "s"})


def test_the_checks_name_a_sign_in_that_would_refuse_everyone(settings):
    from campusconf.signin.checks import federation_settings

    settings.OIDC_RP_CLIENT_ID = "campusconf"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = "https://op.example/authorize"
    settings.OIDC_OP_ISSUER = ""
    settings.CAMPUSCONF_SAML_ENABLED = True
    settings.CAMPUSCONF_SAML_IDP_METADATA_URL = "https://federation.example/metadata.xml"
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = []
    assert [error.id for error in federation_settings()] == ["signin.E001", "signin.E002"]
    settings.OIDC_OP_ISSUER = "https://op.example"
    settings.CAMPUSCONF_SAML_IDP_ENTITY_IDS = ["https://idp.utac.example.ac.jp/idp/shibboleth"]
    assert federation_settings() == []
