"""Outbound webhooks: signed bodies, events from the transition hooks, retries."""

import hashlib
import hmac
import json

import pytest

from campaigns import transitions
from campaigns.models import CampaignStatus, RecipientStatus
from messaging import outbound
from messaging.models import WebhookDelivery, WebhookEndpoint
from tests.api.receiver import receiver
from tests.factories import CampaignFactory, RecipientFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hook(sub_account):
    with receiver() as box:
        endpoint = WebhookEndpoint.objects.create(sub_account=sub_account, url=box.url)
        yield box, endpoint


def finish_one(sub_account):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    recipient = RecipientFactory(
        campaign=campaign, status=RecipientStatus.SMS_SENT, reason="131026", route="whatsapp"
    )
    transitions.advance(recipient.pk, [RecipientStatus.SMS_SENT], RecipientStatus.DELIVERED_SMS)
    transitions.finish_campaign_if_done(campaign.pk)
    return campaign, recipient


def test_signature_verifies(hook, sub_account, run_jobs):
    box, endpoint = hook
    finish_one(sub_account)
    run_jobs()
    sent = box.requests[0]
    timestamp = sent.headers["X-Switchback-Timestamp"]
    expected = hmac.new(
        endpoint.secret.encode(), timestamp.encode() + b"." + sent.body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(sent.headers["X-Switchback-Signature"], f"sha256={expected}")


def test_events_are_sent(hook, sub_account, run_jobs):
    box, _ = hook
    finish_one(sub_account)
    run_jobs()
    events = [json.loads(r.body)["event"] for r in box.requests]
    assert events == ["recipient.final", "campaign.completed"]


def test_recipient_final_has_outcome_and_reason(hook, sub_account, run_jobs):
    box, _ = hook
    finish_one(sub_account)
    run_jobs()
    data = json.loads(box.requests[0].body)["data"]
    assert (data["route"], data["outcome"], data["reason"]) == (
        "whatsapp",
        "delivered_sms",
        "131026",
    )


def test_other_sub_account_gets_nothing(hook, other_sub_account, run_jobs):
    box, _ = hook
    finish_one(other_sub_account)
    run_jobs()
    assert box.requests == []


def test_failed_send_is_retried(hook, sub_account, run_jobs, settings):
    settings.OUTBOUND_WEBHOOK_BACKOFF_SECONDS = 0.2
    box, endpoint = hook
    endpoint.events = ["campaign.completed"]
    endpoint.save()
    box.statuses = [500, 503]
    finish_one(sub_account)
    run_jobs(max_seconds=3)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("delivered", 3)


def test_gives_up_after_tries(hook, sub_account, run_jobs, settings):
    settings.OUTBOUND_WEBHOOK_BACKOFF_SECONDS = 0.1
    settings.OUTBOUND_WEBHOOK_TRIES = 2
    box, endpoint = hook
    endpoint.events = ["campaign.completed"]
    endpoint.save()
    box.statuses = [500] * 5
    finish_one(sub_account)
    run_jobs(max_seconds=2)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == ("failed", 2)


def test_endpoint_secret_shown_on_create_only(api):
    created = api.post("/api/v1/webhook-endpoints/", {"url": "http://127.0.0.1:9/"}, format="json")
    listed = api.get(f"/api/v1/webhook-endpoints/{created.json()['id']}/")
    assert (created.json()["secret"].startswith("whsec_"), listed.json()["secret"]) == (True, "")


def test_no_endpoint_costs_one_query(sub_account, django_assert_num_queries):
    recipient = RecipientFactory(campaign=CampaignFactory(sub_account=sub_account))
    with django_assert_num_queries(1):
        outbound.recipient_final(recipient.pk)
