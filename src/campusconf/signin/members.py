"""From a common ID asserted by the university's identity provider to a signed-in user.

Every way in (OpenID Connect, SAML, development sign-in) ends here, so the rules of
who may enter are written once.
"""

import re

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from campusconf.members.models import Member

COMMON_ID = re.compile(r"^[0-9]{10}\Z")


class SignInRefused(Exception):
    """The person is known to the identity provider but may not enter; ``code`` says why."""

    MESSAGES = {
        "not_in_directory": _(
            "We could not find your common ID in the university directory, so you "
            "cannot use this service yet. If you joined the university recently, please "
            "try again tomorrow; otherwise write to the help desk."
        ),
        "left": _(
            "Your university membership has ended, so you can no longer sign in here. "
            "If you think this is a mistake, please write to the help desk."
        ),
        "no_common_id": _(
            "Your university sign-in did not tell us your common ID, so we cannot "
            "find you. Please write to the help desk."
        ),
        "idp_not_accepted": _(
            "This sign-in came from an identity provider that this service does not "
            "accept, so you have not been signed in. Please start again from this site's "
            "sign-in page and sign in with your university account. If this keeps "
            "happening, please write to the help desk."
        ),
        "scope_not_accepted": _(
            "The identity provider vouched for an account of another organisation, which "
            "it may not do here, so you have not been signed in. Please sign in with your "
            "own university account."
        ),
        "too_many": _("Too many sign-in attempts. Please wait a minute and try again."),
        "failed": _("Signing in did not succeed. Please try again."),
    }

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(code)


def message_for(code: str) -> str:
    return str(SignInRefused.MESSAGES.get(code, SignInRefused.MESSAGES["failed"]))


def member_for(common_id: str) -> Member:
    member = Member.objects.filter(common_id=common_id).first()
    if member is None:
        raise SignInRefused("not_in_directory")
    if not member.is_active_member:
        raise SignInRefused("left")
    return member


def user_for(member: Member) -> User:
    """The member's Django user, made on the first sign-in; it never has a password."""
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.user_id is not None:
            user = User.objects.get(pk=locked.user_id)
            if not user.is_active:
                raise SignInRefused("failed")
            return user
        user, _created = User.objects.get_or_create(username=locked.common_id)
        if _created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        locked.user = user
        locked.save(update_fields=["user", "updated_at"])
    member.user = user
    return user


def sign_in_user(common_id: str) -> User:
    """The user for a common ID, or SignInRefused."""
    return user_for(member_for(common_id))
