"""Forms of the directory pages: the roster upload and the SCIM clients."""

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from campusconf.backoffice.forms import ReasonField
from campusconf.directory.roster_format import COLUMNS, REQUIRED_COLUMNS
from campusconf.directory.tokens import BadScopes, check_scopes

# The uploaded roster is kept in the session between the dry run and the confirm
# step, so it is capped; bigger rosters go through ``campusconf import-roster``.
ROSTER_MAX_BYTES = 2 * 1024 * 1024


class RosterUploadForm(forms.Form):
    roster = forms.FileField(
        label=_("Roster file (CSV, UTF-8)"),
        # The format told on the page itself: staff do not read the repository's docs.
        help_text=format_lazy(
            _("A header row, then one member a line. Columns: {columns}. Required: {required}."),
            columns=", ".join(COLUMNS),
            required=", ".join(REQUIRED_COLUMNS),
        ),
    )
    full = forms.BooleanField(
        label=_("Full roster: members absent from the file are marked as left"), required=False
    )
    allow_mass_change = forms.BooleanField(
        label=_("Allow a mass change (full roster only)"), required=False
    )
    reason = ReasonField()

    def clean_roster(self) -> str:
        upload = self.cleaned_data["roster"]
        if upload.size > ROSTER_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large: at most %(size)d MB here; use the command line.")
                % {"size": ROSTER_MAX_BYTES // (1024 * 1024)},
                code="too_large",
            )
        raw = upload.read()
        try:
            text: str = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise forms.ValidationError(
                _("The file is not UTF-8 text. Save it as CSV UTF-8 and try again."),
                code="encoding",
            ) from None
        if "\x00" in text:
            raise forms.ValidationError(_("The file is not a CSV file."), code="not_csv")
        return text


class ScimClientForm(forms.Form):
    name = forms.CharField(label=_("Client name"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Rights"),
        choices=[
            ("read", _("read: look up users and groups")),
            ("write", _("write: create, change and delete users and groups")),
            ("deactivate", _("deactivate: make members leave (active=false, delete)")),
        ],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Give only what the identity system needs; deactivate needs write."),
    )
    reason = ReasonField()

    def clean_scopes(self) -> list[str]:
        scopes: list[str] = self.cleaned_data["scopes"]
        try:
            check_scopes(scopes)
        except BadScopes as error:
            raise forms.ValidationError(str(error), code="scopes") from error
        return scopes


class HoldDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "approve"), ("reject", "reject")])
    reason = ReasonField()
