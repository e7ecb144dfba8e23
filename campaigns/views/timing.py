"""A campaign's schedule and drip in words, in the sub-account's time zone."""

from campaigns.forms.schedule import WEEKDAYS, sub_account_zone
from campaigns.models import Campaign

DAY_NAMES = dict(WEEKDAYS)


def schedule_words(campaign: Campaign) -> list[str]:
    """Return one sentence for when sending starts and, with drip, one for the batches."""
    zone = sub_account_zone(campaign.sub_account)
    zone_name = zone.key if zone else campaign.sub_account.timezone
    if campaign.send_at and zone:
        start = f"Scheduled for {campaign.send_at.astimezone(zone):%a %Y-%m-%d %H:%M} {zone_name}."
    elif campaign.send_at:
        start = f"Scheduled for {campaign.send_at:%Y-%m-%d %H:%M} UTC."
    else:
        start = "Sends as soon as it is launched."
    if not campaign.drip_size:
        return [start]
    weekdays = campaign.drip_weekdays or list(range(7))
    days = "every day" if len(weekdays) == 7 else ", ".join(DAY_NAMES[str(d)] for d in weekdays)
    every = campaign.drip_every_minutes or 1
    drip = (
        f"Drip: {campaign.drip_size} recipient{'s' if campaign.drip_size != 1 else ''} every "
        f"{every} minute{'s' if every != 1 else ''}, {days}, "
        f"{campaign.drip_start_hour:02d}:00-{campaign.drip_end_hour:02d}:00 {zone_name}."
    )
    return [start, drip]
