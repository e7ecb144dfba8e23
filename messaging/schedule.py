"""When a campaign may send: its scheduled start and its drip windows.

Weekdays and hours are read in the sub-account's time zone, so "Monday 09:00-17:00"
follows that zone's daylight saving changes.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db.models import Q

from campaigns.models import Campaign

logger = logging.getLogger(__name__)

# A drip window is looked for hour by hour this far ahead; a campaign with no allowed
# hour in a week (an empty weekday list is every day) never sends.
SEARCH_HOURS = 8 * 24


@dataclass(frozen=True)
class Wait:
    """Sending may not start before `until`; `reason` is shown on the campaign."""

    until: datetime
    reason: str


def zone(campaign: Campaign) -> ZoneInfo:
    name = campaign.sub_account.timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"sub-account {campaign.sub_account_id} has an invalid time zone {name!r}: "
            "set an IANA name such as Europe/Berlin"
        ) from exc


def wait_before_sending(campaign: Campaign, now: datetime) -> Wait | None:
    """Return when the campaign may send next, or None when it may send now."""
    if campaign.send_at and now < campaign.send_at:
        local = campaign.send_at.astimezone(zone(campaign))
        return Wait(campaign.send_at, f"Scheduled for {local:%Y-%m-%d %H:%M %Z}.")
    if not campaign.drip_size:
        return None
    window_start = next_drip_hour(campaign, now)
    if window_start is None:
        return Wait(now + timedelta(days=7), "Drip has no allowed weekday and hour.")
    if window_start > now:
        local = window_start.astimezone(zone(campaign))
        return Wait(window_start, f"Drip: next window opens {local:%a %Y-%m-%d %H:%M %Z}.")
    if campaign.next_batch_at and now < campaign.next_batch_at:
        local = campaign.next_batch_at.astimezone(zone(campaign))
        return Wait(campaign.next_batch_at, f"Drip: next batch at {local:%H:%M %Z}.")
    return None


def next_drip_hour(campaign: Campaign, now: datetime) -> datetime | None:
    """Return now if the drip window is open, else the start of the next open hour."""
    tz = zone(campaign)
    local = now.astimezone(tz)
    if _open(campaign, local):
        return now
    hour = local.replace(minute=0, second=0, microsecond=0)
    for _ in range(SEARCH_HOURS):
        hour = (hour + timedelta(hours=1)).astimezone(tz)
        if _open(campaign, hour):
            return hour
    return None


def take_drip_batch(campaign: Campaign, now: datetime) -> int | None:
    """Claim the campaign's next drip batch for this worker and return its size: 0 when
    another worker took it first, None for a campaign without drip."""
    if not campaign.drip_size:
        return None
    every = timedelta(minutes=campaign.drip_every_minutes or 1)
    # Conditional update: of several workers arriving at once, one moves next_batch_at on.
    taken = (
        Campaign.objects.filter(pk=campaign.pk)
        .filter(Q(next_batch_at__isnull=True) | Q(next_batch_at__lte=now))
        .update(next_batch_at=now + every)
    )
    if not taken:
        return 0
    logger.info("campaign %s: drip batch of %s taken", campaign.pk, campaign.drip_size)
    return campaign.drip_size


def _open(campaign: Campaign, local: datetime) -> bool:
    weekdays = campaign.drip_weekdays or list(range(7))
    hour_open = campaign.drip_start_hour <= local.hour < campaign.drip_end_hour
    return local.weekday() in weekdays and hour_open
