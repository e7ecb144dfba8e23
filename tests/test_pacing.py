"""Send-rate limits in Redis, and dispatch holding recipients back instead of failing them."""

import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from campaigns import controls
from campaigns.launch import start_launch
from campaigns.models import (
    BusinessPortfolio,
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientStatus,
)
from messaging import pacing
from messaging.dispatch import claim, dispatch_campaign
from messaging.models import AttemptStatus, Channel, DeliveryAttempt
from messaging.queue import get_queue
from messaging.sweeper import release_abandoned, requeue_dispatch
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory


def unique_key() -> str:
    return f"test:{uuid.uuid4().hex}"


def test_reservations_do_not_overlap():
    key = unique_key()
    first = pacing.reserve(key, 10, 100)
    second = pacing.reserve(key, 10, 100)
    # The second batch starts where the first one's ten 10 ms slots end.
    assert second.start_in - first.start_in >= 0.09


def test_invalid_rate_rejected():
    with pytest.raises(ValueError, match="positive messages/s"):
        pacing.reserve(unique_key(), 1, 0)


def test_slow_down_delays_next_slot():
    key = unique_key()
    pacing.slow_down(key, 2.0)
    assert pacing.reserve(key, 1, 80).start_in > 1.5


def test_portfolio_admits_up_to_limit():
    portfolio_id = uuid.uuid4().int % 10**9
    admitted, wait = pacing.admit_to_portfolio(portfolio_id, 2, ["+1", "+2", "+3"])
    assert admitted == 2
    assert wait > 0


def test_portfolio_counts_number_once():
    portfolio_id = uuid.uuid4().int % 10**9
    pacing.admit_to_portfolio(portfolio_id, 1, ["+1"])
    admitted, _ = pacing.admit_to_portfolio(portfolio_id, 1, ["+1"])
    assert admitted == 1


def test_pair_taken_within_six_seconds():
    sender = unique_key()
    assert pacing.take_pairs(sender, ["+1"]) == {}
    assert "+1" in pacing.take_pairs(sender, ["+1"])


def sub_account_with_contacts(count: int, **fields):
    sub_account = SubAccountFactory(whatsapp_phone_number_id=uuid.uuid4().hex[:12], **fields)
    for n in range(count):
        ContactFactory(sub_account=sub_account, phone=f"+4474002{n:05d}")
    return sub_account


@pytest.mark.django_db
def test_sweeper_releases_abandoned_claim():
    sub_account = sub_account_with_contacts(1)
    campaign = CampaignFactory(
        sub_account=sub_account, template=TemplateFactory(sub_account=sub_account)
    )
    recipient = Recipient.objects.create(
        campaign=campaign, contact=sub_account.contacts.get(), phone="+447400200000"
    )
    claim(campaign.pk, Channel.WHATSAPP, 10)

    assert release_abandoned(older_than=0) == 1
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.PENDING
    assert not DeliveryAttempt.objects.filter(recipient=recipient).exists()


@pytest.mark.django_db
def test_sweeper_keeps_sending_attempts():
    sub_account = sub_account_with_contacts(1)
    campaign = CampaignFactory(
        sub_account=sub_account, template=TemplateFactory(sub_account=sub_account)
    )
    Recipient.objects.create(campaign=campaign, contact=sub_account.contacts.get(), phone="+1")
    attempts = claim(campaign.pk, Channel.WHATSAPP, 10)
    DeliveryAttempt.objects.filter(pk=attempts[0].pk).update(status=AttemptStatus.SENDING)

    assert release_abandoned(older_than=0) == 0


@pytest.mark.django_db(transaction=True)
def test_messaging_limit_holds_campaign(sandbox):
    sandbox.configure(unreachable_percent=0, webhook_delay_ms=20)
    portfolio = BusinessPortfolio.objects.create(
        agency=SubAccountFactory().agency, name="Main", messaging_limit=2
    )
    sub_account = sub_account_with_contacts(3, business_portfolio=portfolio)
    campaign = CampaignFactory(
        sub_account=sub_account, template=TemplateFactory(sub_account=sub_account)
    )
    start_launch(campaign)  # type: ignore[arg-type]

    def two_delivered() -> bool:
        return Recipient.objects.filter(campaign=campaign, status="delivered_whatsapp").count() == 2

    assert wait_until(two_delivered)
    campaign.refresh_from_db()
    assert campaign.status == "running"
    assert "messaging limit of 2" in campaign.status_reason
    assert len(sandbox.messages("whatsapp")) == 2


# TODO: throttled recipients stay pending after the rounds below, cause not found.
# Remove the mark when this passes.
@pytest.mark.django_db(transaction=True)
def test_throttled_sender_fails_nobody(sandbox):
    # The sandbox admits 5 messages/s for the number while the sub-account claims 80/s.
    sandbox.configure(unreachable_percent=0, webhook_delay_ms=20, whatsapp_mps=5)
    sub_account = sub_account_with_contacts(12)
    campaign = CampaignFactory(
        sub_account=sub_account, template=TemplateFactory(sub_account=sub_account)
    )
    start_launch(campaign)  # type: ignore[arg-type]

    def done() -> bool:
        campaign.refresh_from_db()
        return campaign.status == "completed"

    # Dispatch runs here directly: the throttled recipients wait about a second each round.
    for _ in range(20):
        if not Recipient.objects.filter(campaign=campaign, status="pending").exists():
            break
        time.sleep(1.1)
        dispatch_campaign(campaign.pk)
    assert wait_until(done)
    statuses = set(Recipient.objects.filter(campaign=campaign).values_list("status", flat=True))
    assert statuses == {"delivered_whatsapp"}
    assert len(sandbox.messages("whatsapp")) == 12


def test_campaign_model_has_drip_fields():
    assert {"send_at", "drip_size", "drip_every_minutes"} <= {f.name for f in Campaign._meta.fields}


def held_campaign(finished_recipients: int = 0) -> Campaign:
    """Create a running campaign whose only open recipient waits 9 h for its SMS."""
    sub_account = sub_account_with_contacts(finished_recipients + 1)
    campaign = CampaignFactory.create(
        sub_account=sub_account,
        template=TemplateFactory(sub_account=sub_account),
        status=CampaignStatus.RUNNING,
    )
    held, *finished = sub_account.contacts.all()
    for contact in finished:
        Recipient.objects.create(
            campaign=campaign,
            contact=contact,
            phone=contact.phone,
            status=RecipientStatus.DELIVERED_WHATSAPP,
        )
    Recipient.objects.create(
        campaign=campaign,
        contact=held,
        phone=held.phone,
        status=RecipientStatus.SMS_PENDING,
        send_after=timezone.now() + timedelta(hours=9),
    )
    return campaign


@pytest.mark.django_db
def test_sweeper_leaves_held_campaign():
    held_campaign(finished_recipients=1)

    assert requeue_dispatch() == []


@pytest.mark.django_db(transaction=True)
def test_held_campaign_woken_once():
    campaign = held_campaign()
    scheduled = ScheduledJobRegistry(queue=get_queue("default"))

    for _ in range(3):
        dispatch_campaign(campaign.pk)

    assert scheduled.count == 1


@pytest.mark.django_db
def test_held_campaign_notes_due_time():
    campaign = held_campaign()

    dispatch_campaign(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status_reason.startswith("Waiting: 1 recipient held until ")


@pytest.mark.django_db
def test_cancel_clears_wait_note():
    campaign = held_campaign()
    Campaign.objects.filter(pk=campaign.pk).update(status_reason="Waiting: quiet hours")

    controls.cancel(campaign)

    campaign.refresh_from_db()
    assert campaign.status_reason == ""
