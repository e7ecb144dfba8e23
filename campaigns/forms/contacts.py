"""Contact list filters and the contact CSV import."""

from django import forms
from django.core.exceptions import ValidationError

from .choices import set_choices

CONSENT_CHOICES = [("", "any"), ("in", "opted in"), ("out", "opted out")]
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


class ContactFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    tag = forms.ChoiceField(required=False)
    country = forms.ChoiceField(required=False)
    whatsapp = forms.ChoiceField(label="WhatsApp consent", choices=CONSENT_CHOICES, required=False)
    sms = forms.ChoiceField(label="SMS consent", choices=CONSENT_CHOICES, required=False)

    def __init__(self, *args, tags: list[str], countries: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self.fields["tag"], [("", "any"), *[(tag, tag) for tag in tags]])
        set_choices(self.fields["country"], [("", "any"), *[(code, code) for code in countries]])


class ContactImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="A header row, then one contact per row.")
    default_region = forms.CharField(
        label="Country of numbers without a country code",
        required=False,
        max_length=3,
        help_text="Two-letter code such as GB or US; used only where a row has no country.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                f"The file is {upload.size // (1024 * 1024)} MB; split it into files of at "
                f"most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."
            )
        return upload
