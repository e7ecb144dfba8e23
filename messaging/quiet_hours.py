"""Quiet hours for SMS to US numbers: send only between 08:00 and 21:00 in the recipient's
local time (or the sub-account's narrower window), and otherwise compute when to send."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_timezone

from campaigns.models import SubAccount

LEGAL_START, LEGAL_END = time(8), time(21)
# A number whose zone phonenumbers cannot narrow down (toll-free, new area codes) must be
# inside the window from Hawaii to the East Coast.
WIDE_ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Pacific/Honolulu")
MAX_NARROW_ZONES = 4


def window(sub_account: SubAccount) -> tuple[time, time]:
    """Return the local send window: the legal one, narrowed by the sub-account's."""
    return max(LEGAL_START, sub_account.sms_window_start), min(
        LEGAL_END, sub_account.sms_window_end
    )


def zones(phone: str) -> tuple[ZoneInfo, ...]:
    """Return the time zones of a US number, or () when the number is not a US one."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return ()
    if phonenumbers.region_code_for_number(number) != "US":
        return ()
    names = [
        name
        for name in number_timezone.time_zones_for_number(number)
        if name != number_timezone.UNKNOWN_TIMEZONE
    ]
    if not names or len(names) > MAX_NARROW_ZONES:
        names = list(WIDE_ZONES)
    return tuple(ZoneInfo(name) for name in names)


def next_send_time(phone: str, sub_account: SubAccount, now: datetime) -> datetime | None:
    """Return when an SMS to `phone` may go out, or None when it may go out now.

    A number spread over several zones must be inside the window in each of them.
    """
    number_zones = zones(phone)
    if not number_zones:
        return None
    start, end = window(sub_account)
    candidate = now
    # Each step moves to the next window start of a zone that is outside its window, so a
    # few steps settle on a time that suits every zone.
    for _ in range(2 * len(number_zones) + 2):
        later = [_window_start_after(candidate, zone, start, end) for zone in number_zones]
        waits = [moment for moment in later if moment is not None]
        if not waits:
            return None if candidate == now else candidate
        candidate = max(waits)
    return candidate


def _window_start_after(
    moment: datetime, zone: ZoneInfo, start: time, end: time
) -> datetime | None:
    """Return the next window start in `zone` if `moment` is outside the window, else None."""
    local = moment.astimezone(zone)
    if start <= local.time() < end:
        return None
    day = local.date() if local.time() < start else local.date() + timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone)
