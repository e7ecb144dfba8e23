"""Schedule and drip fields of a campaign in the API, and their checks.

A send_at without a UTC offset is read in the sub-account's time zone, as the campaign
forms do, and every send_at is returned in that zone.
"""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import models
from django.utils import timezone
from rest_framework import serializers

from campaigns.models import Campaign, SubAccount

DRIP_WINDOW = ("drip_weekdays", "drip_start_hour", "drip_end_hour")
# A send_at further ahead is more likely a typo in the year than a plan, and times near
# year 9999 overflow when shown in a time zone east of UTC.
MAX_SCHEDULE_AHEAD = timedelta(days=366)
# One week: the longest gap between batches that still lets a weekly drip work.
MAX_DRIP_EVERY_MINUTES = 7 * 24 * 60


def declared_fields() -> dict[str, serializers.Field]:
    return {
        "send_at": serializers.DateTimeField(
            required=False,
            allow_null=True,
            help_text="Send nothing before this time. Without a UTC offset it is read in the "
            "sub-account's time zone; null sends at launch.",
        ),
        "drip_size": serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            help_text="Drip: recipients per batch; null sends at the providers' pace.",
        ),
        "drip_every_minutes": serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=MAX_DRIP_EVERY_MINUTES,
            help_text="Drip: minutes from one batch to the next.",
        ),
        "drip_weekdays": serializers.ListField(
            child=serializers.IntegerField(min_value=0, max_value=6),
            required=False,
            max_length=7,
            help_text="Drip: weekdays on which batches go out, 0 is Monday; empty means every day.",
        ),
        "drip_start_hour": serializers.IntegerField(
            required=False,
            min_value=0,
            max_value=23,
            help_text="Drip: first hour of the day (0-23) in the sub-account's time zone.",
        ),
        "drip_end_hour": serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=24,
            help_text="Drip: batches start before this hour (1-24); 24 is midnight.",
        ),
    }


def use_time_zone(field: serializers.Field, sub_account: SubAccount) -> None:
    """Read and show send_at in the sub-account's zone, or in UTC when the zone name is invalid."""
    assert isinstance(field, serializers.DateTimeField)
    try:
        field.timezone = ZoneInfo(sub_account.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        field.timezone = ZoneInfo("UTC")


def check(attrs: dict[str, Any], instance: Campaign | None) -> dict[str, list[str]]:
    """Return the errors of the schedule and drip fields, by field name."""

    def value(name: str) -> Any:
        if name in attrs:
            return attrs[name]
        return getattr(instance, name) if instance is not None else None

    errors: dict[str, list[str]] = {}
    send_at = attrs.get("send_at")
    if send_at is not None:
        errors.update(_check_send_at(send_at))

    weekdays = attrs.get("drip_weekdays") or []
    if len(set(weekdays)) != len(weekdays):
        errors["drip_weekdays"] = [f"{weekdays} names a weekday twice; list each day once."]

    size, every = value("drip_size"), value("drip_every_minutes")
    if size and not every:
        errors["drip_every_minutes"] = ["drip_size is set: give the minutes between batches."]
    if every and not size:
        errors["drip_size"] = ["drip_every_minutes is set: give the recipients per batch."]
    window_given = [name for name in DRIP_WINDOW if name in attrs and attrs[name] != _default(name)]
    if window_given and not size:
        errors[window_given[0]] = [
            "is a drip setting, but the campaign has no drip_size; set drip_size and "
            "drip_every_minutes, or leave the drip fields out."
        ]

    start, end = value("drip_start_hour"), value("drip_end_hour")
    if start is not None and end is not None and start >= end:
        errors["drip_end_hour"] = [
            f"{end} is not after drip_start_hour {start}; the window runs from start to end "
            "on the same day."
        ]
    return errors


def _check_send_at(send_at: datetime) -> dict[str, list[str]]:
    now = timezone.now()
    if send_at < now:
        return {"send_at": [f"{send_at.isoformat()} is in the past; give a later time or null."]}
    if send_at > now + MAX_SCHEDULE_AHEAD:
        return {
            "send_at": [
                f"{send_at.isoformat()} is more than {MAX_SCHEDULE_AHEAD.days} days ahead; "
                "check the year."
            ]
        }
    return {}


def _default(name: str) -> Any:
    field = Campaign._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field.get_default()
