"""Scheduled starts, drip windows and pausing a send in progress."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from campaigns import controls
from campaigns.launch import launch_campaign, start_launch
from campaigns.models import Campaign, CampaignStatus, Recipient, RecipientStatus
from messaging import schedule
from messaging.dispatch import dispatch_campaign
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

# A Sunday noon in New York (16:00 UTC); the next Monday 09:00 there is 13:00 UTC.
SUNDAY_NOON_NY = datetime(2026, 6, 7, 16, 0, tzinfo=UTC)
MONDAY_NINE_NY = datetime(2026, 6, 8, 13, 0, tzinfo=UTC)


def campaign_with(count: int, **fields) -> Campaign:
    sub_account = SubAccountFactory.create(timezone="America/New_York")
    template = TemplateFactory.create(sub_account=sub_account)
    for n in range(count):
        ContactFactory.create(sub_account=sub_account, phone=f"+4474001{n:05d}")
    return CampaignFactory.create(sub_account=sub_account, template=template, **fields)


@pytest.mark.django_db
def test_send_at_future_waits_with_reason():
    send_at = SUNDAY_NOON_NY + timedelta(hours=2)
    campaign = campaign_with(0, send_at=send_at)

    wait = schedule.wait_before_sending(campaign, SUNDAY_NOON_NY)

    assert wait is not None
    assert wait.until == send_at
    assert wait.reason == "Scheduled for 2026-06-07 14:00 EDT."


@pytest.mark.django_db
def test_send_at_past_sends_now():
    campaign = campaign_with(0, send_at=SUNDAY_NOON_NY - timedelta(minutes=1))
    assert schedule.wait_before_sending(campaign, SUNDAY_NOON_NY) is None


@pytest.mark.django_db
def test_drip_waits_for_next_weekday_window():
    campaign = campaign_with(
        0,
        drip_size=2,
        drip_every_minutes=5,
        drip_weekdays=[0],
        drip_start_hour=9,
        drip_end_hour=17,
    )

    wait = schedule.wait_before_sending(campaign, SUNDAY_NOON_NY)

    assert wait is not None
    assert wait.until == MONDAY_NINE_NY
    assert "Mon 2026-06-08 09:00" in wait.reason


@pytest.mark.django_db
def test_drip_open_window_sends_now():
    campaign = campaign_with(
        0,
        drip_size=2,
        drip_every_minutes=5,
        drip_weekdays=[0],
        drip_start_hour=9,
        drip_end_hour=17,
    )
    assert schedule.wait_before_sending(campaign, MONDAY_NINE_NY + timedelta(hours=1)) is None


@pytest.mark.django_db
def test_drip_batch_taken_once_per_interval():
    campaign = campaign_with(0, drip_size=3, drip_every_minutes=10)

    first = schedule.take_drip_batch(campaign, MONDAY_NINE_NY)
    again = schedule.take_drip_batch(campaign, MONDAY_NINE_NY + timedelta(minutes=9))
    later = schedule.take_drip_batch(campaign, MONDAY_NINE_NY + timedelta(minutes=10))

    assert first == 3
    assert again == 0
    assert later == 3


def whatsapp_sent(sandbox) -> int:
    return len(sandbox.messages("whatsapp"))


@pytest.mark.django_db(transaction=True)
def test_drip_sends_one_batch_per_interval(sandbox):
    sandbox.configure(unreachable_percent=0)
    campaign = campaign_with(5, drip_size=2, drip_every_minutes=1)
    start_launch(campaign)
    launch_campaign(campaign.pk)

    dispatch_campaign(campaign.pk)
    dispatch_campaign(campaign.pk)
    assert whatsapp_sent(sandbox) == 2

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1, seconds=1)):
        dispatch_campaign(campaign.pk)
    assert whatsapp_sent(sandbox) == 4


@pytest.mark.django_db(transaction=True)
def test_scheduled_campaign_sends_after_send_at(sandbox):
    sandbox.configure(unreachable_percent=0)
    campaign = campaign_with(2, send_at=datetime.now(UTC) + timedelta(hours=1))
    start_launch(campaign)
    launch_campaign(campaign.pk)

    dispatch_campaign(campaign.pk)
    campaign.refresh_from_db()
    assert whatsapp_sent(sandbox) == 0
    assert campaign.status_reason.startswith("Waiting: Scheduled for")

    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1, seconds=1)):
        dispatch_campaign(campaign.pk)
    assert whatsapp_sent(sandbox) == 2


@pytest.mark.django_db(transaction=True)
def test_pause_stops_send_within_a_second(sandbox):
    sandbox.configure(unreachable_percent=0)
    # 5 messages/s for 40 recipients: about 8 s of sending if nothing stops it.
    campaign = campaign_with(40)
    campaign.sub_account.whatsapp_messages_per_second = 5
    campaign.sub_account.save()
    start_launch(campaign)
    launch_campaign(campaign.pk)

    def send() -> None:
        try:
            dispatch_campaign(campaign.pk)
        finally:
            connection.close()

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(1.0)
    controls.pause(campaign)
    paused_at = time.monotonic()
    sender.join(timeout=10)

    assert not sender.is_alive()
    assert time.monotonic() - paused_at < 2.0
    sent = whatsapp_sent(sandbox)
    assert 0 < sent < 40
    waiting = Recipient.objects.filter(campaign=campaign, status=RecipientStatus.PENDING)
    assert waiting.count() == 40 - sent
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.PAUSED
