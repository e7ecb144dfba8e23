"""The schedule section of the compose form: send at launch or at a set time, and drip.

Times are typed in the sub-account's time zone and stored in UTC. The drip window's
weekdays and hours are read in that zone too, by `messaging.schedule`.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign, SubAccount

WEEKDAYS = [
    ("0", "Mon"),
    ("1", "Tue"),
    ("2", "Wed"),
    ("3", "Thu"),
    ("4", "Fri"),
    ("5", "Sat"),
    ("6", "Sun"),
]
START_HOURS = [(hour, f"{hour:02d}:00") for hour in range(24)]
END_HOURS = [(hour, f"{hour:02d}:00") for hour in range(1, 25)]
# The format of <input type="datetime-local">.
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def sub_account_zone(sub_account: SubAccount) -> ZoneInfo | None:
    """Return the sub-account's time zone, or None when its name is not an IANA zone."""
    return sub_account.zone


class LocalDateTimeField(forms.DateTimeField):
    """A date and time typed and shown in `zone`, cleaned to an aware datetime."""

    zone: ZoneInfo = ZoneInfo("UTC")

    def to_python(self, value: Any) -> datetime | None:
        with timezone.override(self.zone):
            try:
                return super().to_python(value)
            except ValidationError as error:
                if error.code != "ambiguous_timezone":
                    raise
        raise ValidationError(
            f"{value} does not exist or occurs twice in {self.zone.key} because of a "
            "daylight saving change: pick a time at least an hour away from the change.",
            code="ambiguous_timezone",
        )

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, datetime) and timezone.is_aware(value):
            return value.astimezone(self.zone).strftime(LOCAL_INPUT_FORMAT)
        return value


class ScheduleFields(forms.Form):
    """Schedule and drip fields, mixed into the compose form."""

    SEND_CHOICES = [("now", "Send when I launch"), ("at", "Send at a set time")]

    send_mode = forms.ChoiceField(
        label="When", choices=SEND_CHOICES, widget=forms.RadioSelect, initial="now", required=False
    )
    send_at = LocalDateTimeField(
        label="Date and time",
        required=False,
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
    )
    drip_enabled = forms.BooleanField(
        label="Send in batches (drip)",
        required=False,
        help_text="Spreads the campaign out, for example to keep reply volume manageable.",
    )
    drip_size = forms.IntegerField(
        label="Recipients per batch", required=False, min_value=1, max_value=1_000_000
    )
    drip_every_minutes = forms.IntegerField(
        label="Minutes between batches", required=False, min_value=1, max_value=7 * 24 * 60
    )
    drip_weekdays = forms.MultipleChoiceField(
        label="On",
        choices=WEEKDAYS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        initial=[value for value, _ in WEEKDAYS],
    )
    # Hours are optional so that a form without the drip section still validates; a
    # missing start is 00:00 and a missing end is 24:00.
    drip_start_hour = forms.TypedChoiceField(
        label="From", choices=START_HOURS, coerce=int, initial=0, required=False, empty_value=None
    )
    drip_end_hour = forms.TypedChoiceField(
        label="Until", choices=END_HOURS, coerce=int, initial=24, required=False, empty_value=None
    )

    def setup_schedule(self, sub_account: SubAccount, instance: Campaign) -> None:
        """Point the date field at the sub-account's zone and load a stored schedule."""
        self.zone = sub_account_zone(sub_account)
        self.timezone_name = sub_account.timezone
        send_at = self.fields["send_at"]
        assert isinstance(send_at, LocalDateTimeField)
        if self.zone is not None:
            send_at.zone = self.zone
            send_at.help_text = f"In the sub-account's time zone, {self.zone.key}."
        if not instance.pk:
            return
        if instance.send_at:
            self.initial.setdefault("send_mode", "at")
            self.initial.setdefault("send_at", instance.send_at)
        if instance.drip_size:
            self.initial.setdefault("drip_enabled", True)
            self.initial.setdefault("drip_size", instance.drip_size)
            self.initial.setdefault("drip_every_minutes", instance.drip_every_minutes)
            weekdays = instance.drip_weekdays or range(7)
            self.initial.setdefault("drip_weekdays", [str(day) for day in weekdays])
            self.initial.setdefault("drip_start_hour", instance.drip_start_hour)
            self.initial.setdefault("drip_end_hour", instance.drip_end_hour)

    def clean_schedule(self, cleaned: dict[str, Any]) -> None:
        """Add an error next to each schedule field that is missing or out of range."""
        if cleaned.get("send_mode") == "at":
            self._clean_send_at(cleaned)
        if cleaned.get("drip_enabled"):
            self._clean_drip(cleaned)

    def _clean_send_at(self, cleaned: dict[str, Any]) -> None:
        if self.zone is None:
            self.add_error(
                "send_at",
                f"The sub-account's time zone {self.timezone_name!r} is invalid: ask "
                "agency staff to set an IANA name such as Europe/Berlin, or send when you launch.",
            )
            return
        send_at = cleaned.get("send_at")
        if send_at is None:
            if "send_at" not in self.errors:
                self.add_error("send_at", "Pick the date and time, or send when you launch.")
            return
        now = timezone.now()
        if send_at <= now:
            local_now = now.astimezone(self.zone)
            self.add_error(
                "send_at",
                f"{send_at.astimezone(self.zone):%Y-%m-%d %H:%M} is in the past (it is now "
                f"{local_now:%Y-%m-%d %H:%M} in {self.zone.key}): pick a later time, or send "
                "when you launch.",
            )

    def _clean_drip(self, cleaned: dict[str, Any]) -> None:
        if cleaned.get("drip_size") is None and "drip_size" not in self.errors:
            self.add_error("drip_size", "Enter how many recipients each batch sends, e.g. 500.")
        if cleaned.get("drip_every_minutes") is None and "drip_every_minutes" not in self.errors:
            self.add_error("drip_every_minutes", "Enter the minutes between batches, e.g. 15.")
        if not cleaned.get("drip_weekdays"):
            self.add_error("drip_weekdays", "Pick at least one weekday to send on.")
        start, end = _hours(cleaned)
        if end <= start:
            self.add_error(
                "drip_end_hour",
                f"The window ends at {end:02d}:00, not after it starts at {start:02d}:00: "
                "pick an end hour after the start hour.",
            )

    def apply_schedule(self, campaign: Campaign) -> None:
        """Copy the cleaned schedule onto `campaign`, clearing what was turned off."""
        cleaned = self.cleaned_data
        campaign.send_at = cleaned.get("send_at") if cleaned.get("send_mode") == "at" else None
        if cleaned.get("drip_enabled"):
            campaign.drip_size = cleaned["drip_size"]
            campaign.drip_every_minutes = cleaned["drip_every_minutes"]
            campaign.drip_weekdays = sorted(int(day) for day in cleaned["drip_weekdays"])
            campaign.drip_start_hour, campaign.drip_end_hour = _hours(cleaned)
        else:
            campaign.drip_size = None
            campaign.drip_every_minutes = None
            campaign.drip_weekdays = []
            campaign.drip_start_hour = 0
            campaign.drip_end_hour = 24


def _hours(cleaned: dict[str, Any]) -> tuple[int, int]:
    start, end = cleaned.get("drip_start_hour"), cleaned.get("drip_end_hour")
    return (0 if start is None else start, 24 if end is None else end)
