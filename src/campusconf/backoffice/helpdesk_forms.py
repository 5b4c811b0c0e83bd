"""Help-desk forms; apart from forms.py because they need the portal's Inquiry model."""

from django import forms
from django.utils.translation import gettext_lazy as _

from campusconf.backoffice.forms import ReasonField
from campusconf.portal.models import Inquiry


def _inquiry_statuses() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in Inquiry.Status.choices]


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Reply to the member"),
        widget=forms.Textarea(attrs={"rows": 6}),
        min_length=3,
        max_length=10000,
        help_text=_("Mailed to the member and shown in the portal; saved in the audit log."),
    )
    status = forms.ChoiceField(label=_("Then set the status to"), choices=_inquiry_statuses)
    # Which canned reply the text started from: sending it also does what it says.
    canned = forms.CharField(required=False, widget=forms.HiddenInput, max_length=32)


class InquiryStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=_inquiry_statuses)
    reason = ReasonField()
