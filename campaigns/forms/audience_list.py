"""The uploaded-list audience of the compose form: a CSV of phone numbers."""

from typing import Any

from django import forms

from campaigns.contact_import import InvalidPhoneNumber, _check_region, normalize_phone
from campaigns.models import Campaign
from campaigns.phone_list import ImportFileError, PhoneList, read_phone_list

from .contacts import MAX_UPLOAD_BYTES


class PhoneListFields(forms.Form):
    """Upload fields, mixed into the compose form.

    The numbers read from an upload are echoed back in the hidden `list_numbers` field,
    so that a page re-rendered with errors keeps the list without a new upload.
    """

    phone_list = forms.FileField(
        label="List of phone numbers (CSV)",
        required=False,
        help_text="One number per row, or a column named Phone. Only contacts with these "
        "numbers are sent to.",
    )
    list_region = forms.CharField(
        label="Country of numbers without a country code",
        required=False,
        max_length=3,
        help_text="Two-letter code such as GB or US.",
    )
    list_numbers = forms.CharField(required=False, widget=forms.HiddenInput)

    def setup_phone_list(self, instance: Campaign) -> None:
        self.phone_list_result: PhoneList | None = None
        # The list as last read: from the upload, the hidden field or the stored campaign.
        self.audience_numbers: list[str] = list(instance.audience_phones or [])
        if instance.pk and instance.audience_phones:
            self.initial.setdefault("audience", "list")
            self.initial.setdefault("list_numbers", " ".join(instance.audience_phones))

    def clean_audience_list(self, cleaned: dict[str, Any]) -> list[str]:
        """Return the list's E.164 numbers, adding an error next to the upload if it has
        none."""
        upload = cleaned.get("phone_list")
        # NOTE: the live preview posts the file again on every edit, so a large list is read
        # and normalized each time; only lists of a few hundred numbers were tried.
        if upload:
            numbers = self._read_upload(upload, cleaned.get("list_region") or None)
        else:
            numbers = self._stored_numbers(cleaned.get("list_numbers") or "")
            if not numbers and "phone_list" not in self.errors:
                self.add_error(
                    "phone_list", "Upload a CSV of phone numbers, or pick another audience."
                )
        self.audience_numbers = numbers
        return numbers

    def _read_upload(self, upload: Any, raw_region: str | None) -> list[str]:
        if upload.size > MAX_UPLOAD_BYTES:
            self.add_error(
                "phone_list",
                f"The file is {upload.size // (1024 * 1024)} MB; upload a list of at most "
                f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB.",
            )
            return []
        try:
            region = _check_region(raw_region)
        except ImportFileError as error:
            self.add_error("list_region", f"Invalid country {raw_region!r}: {error}.")
            return []
        try:
            result = read_phone_list(upload, region)
        except ImportFileError as error:
            self.add_error("phone_list", f"Cannot read {upload.name}: {error}.")
            return []
        self.phone_list_result = result
        if not result.numbers and result.invalid_rows:
            first = result.invalid_rows[0]
            self.add_error(
                "phone_list",
                f"{upload.name} has no valid phone number (row {first.row_number}: "
                f"{first.reason}).",
            )
        elif not result.numbers:
            self.add_error("phone_list", f"{upload.name} has no phone numbers below its header.")
        return result.numbers

    def _stored_numbers(self, text: str) -> list[str]:
        numbers = []
        for value in text.split():
            try:
                numbers.append(normalize_phone(value, None).e164)
            except InvalidPhoneNumber as error:
                self.add_error("phone_list", f"Upload the list again: {error}.")
                return []
        return list(dict.fromkeys(numbers))
