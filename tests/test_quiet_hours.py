"""Quiet hours for SMS to US numbers, in the recipient's local time."""

from datetime import UTC, datetime, time

import pytest

from campaigns.models import SubAccount
from messaging.quiet_hours import next_send_time

WASHINGTON = "+12025550123"
LOS_ANGELES = "+13105550123"
TOLL_FREE = "+18005550123"
LONDON = "+447400123456"


def utc(hour: int, minute: int = 0, day: int = 4) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("phone", "now", "expected"),
    [
        (WASHINGTON, utc(12, 59), utc(13)),  # 07:59 EST
        (WASHINGTON, utc(13), None),  # 08:00 EST
        (WASHINGTON, utc(1, 59, day=5), None),  # 20:59 EST
        (WASHINGTON, utc(2, day=5), utc(13, day=5)),  # 21:00 EST
        (LOS_ANGELES, utc(13), utc(16)),  # 05:00 PST
        (TOLL_FREE, utc(13), utc(18)),  # 08:00 in Honolulu
        (LONDON, utc(3), None),
    ],
)
def test_next_send_time(phone, now, expected):
    assert next_send_time(phone, SubAccount(), now) == expected


def test_sub_account_window_is_stricter():
    sub_account = SubAccount(sms_window_start=time(9), sms_window_end=time(20))
    assert next_send_time(WASHINGTON, sub_account, utc(13, 30)) == utc(14)
    assert next_send_time(WASHINGTON, sub_account, utc(1, 30, day=5)) == utc(14, day=5)


def test_wider_sub_account_window_ignored():
    sub_account = SubAccount(sms_window_start=time(6), sms_window_end=time(23))
    assert next_send_time(WASHINGTON, sub_account, utc(12)) == utc(13)


def test_window_end_before_start_rejected():
    from django.core.exceptions import ValidationError

    sub_account = SubAccount(sms_window_start=time(20), sms_window_end=time(9))
    with pytest.raises(ValidationError, match="set an end after the start"):
        sub_account.clean()
