from django import forms
from django.utils.translation import gettext_lazy as _

from campusconf.portal.models import Inquiry
from campusconf.services.models import Service


class InquiryForm(forms.Form):
    service = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(enabled=True).order_by("display_order", "slug"),
        required=False,
        to_field_name="slug",
        empty_label=_("(not about one service)"),
    )
    topic = forms.ChoiceField(label=_("Topic"), choices=Inquiry.Topic.choices)
    what_happened = forms.CharField(
        label=_("What happened"),
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=5000,
        help_text=_("Your affiliation, common ID and the state of your account are sent with it."),
    )


class MemberReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Write to the help desk"),
        widget=forms.Textarea(attrs={"rows": 5}),
        min_length=2,
        max_length=5000,
    )
