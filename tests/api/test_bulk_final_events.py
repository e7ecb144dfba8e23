"""recipient.final for recipients ended in bulk: skipped at launch, cancelled with the
campaign. Each gets its own event, and one job sends a whole batch."""

import json

import django_rq
import pytest

from campaigns import controls
from campaigns.launch import launch_campaign
from campaigns.models import CampaignStatus, RecipientStatus
from messaging.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import receiver
from tests.factories import CampaignFactory, ContactFactory, RecipientFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hook(sub_account):
    with receiver() as box:
        WebhookEndpoint.objects.create(
            sub_account=sub_account, url=box.url, events=["recipient.final"]
        )
        yield box


def events(box) -> list[dict]:
    return [json.loads(request.body)["data"] for request in box.requests]


def running_with(sub_account, *statuses: str):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    for status in statuses:
        RecipientFactory(campaign=campaign, status=status)
    return campaign


def test_cancel_sends_one_event_each(hook, sub_account, run_jobs):
    controls.cancel(running_with(sub_account, *[RecipientStatus.PENDING] * 3))
    run_jobs()
    assert len(hook.requests) == 3


def queued_jobs() -> int:
    return len(django_rq.get_queue("default"))


def test_cancel_sends_in_one_job(hook, sub_account):
    controls.cancel(running_with(sub_account, *[RecipientStatus.PENDING] * 3))
    assert queued_jobs() == 1


def test_cancel_event_has_outcome(hook, sub_account, run_jobs):
    controls.cancel(running_with(sub_account, RecipientStatus.SMS_PENDING))
    run_jobs()
    sent = events(hook)[0]
    assert (sent["outcome"], sent["reason"]) == ("cancelled", "campaign_cancelled")


def test_cancel_skips_sent_recipients(hook, sub_account, run_jobs):
    controls.cancel(
        running_with(sub_account, RecipientStatus.PENDING, RecipientStatus.WHATSAPP_SENT)
    )
    run_jobs()
    assert [sent["outcome"] for sent in events(hook)] == ["cancelled"]


def test_cancel_in_batches(hook, sub_account, monkeypatch):
    monkeypatch.setattr(controls, "CANCEL_BATCH", 2)
    ended = controls.cancel(running_with(sub_account, *[RecipientStatus.PENDING] * 5))
    assert (ended, queued_jobs()) == (5, 3)


def test_cancel_without_endpoint_stores_nothing(sub_account):
    campaign = running_with(sub_account, RecipientStatus.PENDING)
    controls.cancel(campaign)
    assert WebhookDelivery.objects.count() == 0


def test_cancel_without_endpoint_ends_recipients(sub_account):
    campaign = running_with(sub_account, RecipientStatus.PENDING)
    controls.cancel(campaign)
    assert campaign.recipients.get().status == RecipientStatus.CANCELLED


def launch_with_invalid_numbers(sub_account, count: int):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.LAUNCHING)
    for index in range(count):
        ContactFactory(sub_account=sub_account, phone=f"1{index}")
    launch_campaign(campaign.pk)
    return campaign


def test_launch_sends_skipped(hook, sub_account, run_jobs):
    launch_with_invalid_numbers(sub_account, 2)
    run_jobs()
    assert [sent["outcome"] for sent in events(hook)] == ["skipped", "skipped"]


def test_launch_skipped_has_reason(hook, sub_account, run_jobs):
    launch_with_invalid_numbers(sub_account, 1)
    run_jobs()
    assert events(hook)[0]["reason_text"] != ""


def test_launch_stores_one_delivery_each(hook, sub_account):
    launch_with_invalid_numbers(sub_account, 3)
    assert WebhookDelivery.objects.filter(event="recipient.final").count() == 3
