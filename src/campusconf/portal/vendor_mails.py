"""The vendor's mails in a notice's words: which mail the member has, and its button.

The portal's card says the same (``portal/steps/invited.html``); the words are kept
alike so that a member who reads both is not told two things.
"""

from django.utils.translation import gettext as _

from campusconf.accounts.models import Account
from campusconf.accounts.states import State
from campusconf.portal.next_step import invitation_mail, zoom_join_expected
from campusconf.services.models import Service


def mail_lines(account: Account) -> list[str]:
    """The vendor's mail the member now has, in the portal card's words: its sender,
    subject, address and button, and, where the vendor's API cannot tell us which mail
    went (S7), the other one too."""
    service = account.service
    # A conversion request (S7) or, after an S13 resend on Zoom, a join request rather
    # than an activation mail.
    conversion = account.state == State.CONVERSION_PENDING or zoom_join_expected(service, account)
    mail = invitation_mail(service, account, conversion=conversion)
    if conversion or service.vendor not in (Service.Vendor.WEBEX, Service.Vendor.ZOOM):
        return [
            _("%(sender)s has sent a mail to %(address)s with the subject “%(subject)s”.")
            % {"sender": mail.sender, "address": mail.address, "subject": mail.subject},
            _("Open it and press “%(button)s”.") % {"button": mail.button},
        ]
    other = invitation_mail(service, account, conversion=True)
    paragraphs = [
        _(
            "%(sender)s has sent a mail to %(address)s. Which of two mails it is depends on "
            "whether this address already had a %(service)s account of its own:"
        )
        % {"sender": mail.sender, "address": mail.address, "service": service.name},
        _("• New to %(service)s at this address: “%(subject)s”. Press “%(button)s” in it.")
        % {"service": service.name, "subject": mail.subject, "button": mail.button},
    ]
    if service.vendor == Service.Vendor.ZOOM:
        paragraphs += [
            _(
                "  On Zoom's page, choose “Sign up with password”. If you chose “Sign in "
                "with Google” by mistake, tell us with the button on your services page "
                "in the portal: a new mail follows at once."
            ),
            _(
                "• A Zoom account of your own already used this address: “%(subject)s”. "
                "Press “Approve Request” in it, then “Confirm and Switch”; your meetings "
                "and recordings stay."
            )
            % {"subject": other.subject},
        ]
    else:
        paragraphs += [
            _("  On Webex's page, enter a new password twice and press “Save & Sign in”."),
            _(
                "• A Webex account of your own already used this address: “%(subject)s”. "
                "Press “Review” in it, then “Convert account”; the conversion sets no "
                "password, so sign in with %(address)s and choose “Forgot password”."
            )
            % {"subject": other.subject, "address": mail.address},
        ]
    return paragraphs
