"""The event drain: stored webhooks applied in batches, bulk where the statuses allow."""

import django_rq
import pytest

from campaigns.models import CampaignStatus, Decision, RecipientStatus
from messaging import events, status_batch
from messaging.events import DRAIN_LOCK, process_pending_events
from messaging.models import AttemptStatus, DeliveryAttempt, ProviderEvent
from messaging.sweeper import requeue_events
from tests.factories import CampaignFactory, RecipientFactory
from tests.webhook_payloads import whatsapp_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_flight():
    """Five recipients of one running campaign whose WhatsApp message is out."""
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    attempts = []
    for number in range(5):
        recipient = RecipientFactory(campaign=campaign, status=RecipientStatus.WHATSAPP_SENDING)
        attempts.append(
            DeliveryAttempt.objects.create(
                recipient=recipient,
                channel="whatsapp",
                status=AttemptStatus.ACCEPTED,
                provider_message_id=f"wamid.DRAIN{number}",
                tries=1,
            )
        )
    return attempts


def status_of(attempt, name, **kwargs):
    return whatsapp_status(attempt.provider_message_id, name, attempt_id=attempt.pk, **kwargs)


# Committed for real: completing the campaign waits for the drain's commit.
@pytest.mark.django_db(transaction=True)
def test_one_job_applies_every_status(post_status, run_jobs, in_flight):
    for name in ("sent", "delivered", "read"):
        for attempt in in_flight:
            post_status(status_of(attempt, name))

    assert django_rq.get_queue("events").count == 1
    run_jobs()

    for attempt in in_flight:
        attempt.refresh_from_db()
        assert attempt.status == AttemptStatus.READ
        assert attempt.recipient.status == RecipientStatus.DELIVERED_WHATSAPP
        assert attempt.recipient.finished_at is not None
        assert [d.event for d in attempt.recipient.decisions.all()] == ["WhatsApp delivered"]
    assert not ProviderEvent.objects.filter(processed_at__isnull=True).exists()
    assert not ProviderEvent.objects.exclude(error="").exists()
    assert in_flight[0].recipient.campaign.status == CampaignStatus.COMPLETED


def test_bulk_statuses_take_few_queries(post_status, in_flight, django_assert_max_num_queries):
    for name in ("sent", "delivered", "read"):
        for attempt in in_flight:
            post_status(status_of(attempt, name))

    # One by one, these 15 statuses took about 9 queries each.
    with django_assert_max_num_queries(40):
        assert process_pending_events() == 15


def test_sent_then_failed_falls_back(post_status, run_jobs, in_flight):
    first, second = in_flight[:2]
    post_status(status_of(first, "sent"))
    post_status(status_of(first, "failed", code=131049, title="Ecosystem engagement"))
    post_status(status_of(second, "delivered"))

    run_jobs()

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == AttemptStatus.FAILED
    assert first.recipient.status == RecipientStatus.SMS_PENDING
    assert first.recipient.decisions.last().action == "fallback SMS queued"
    assert second.recipient.status == RecipientStatus.DELIVERED_WHATSAPP


def test_delivered_in_bulk_drops_queued_fallback(post_status, run_jobs, in_flight):
    attempt = in_flight[0]
    recipient = attempt.recipient
    recipient.status = RecipientStatus.SMS_PENDING
    recipient.fallback_triggered = True
    recipient.save()

    post_status(status_of(attempt, "delivered"))
    run_jobs()

    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DELIVERED_WHATSAPP
    assert not recipient.fallback_triggered
    assert "the SMS is not sent" in recipient.decisions.last().action


def test_unknown_wamid_noted_on_its_event(post_status, run_jobs, in_flight):
    post_status(whatsapp_status("wamid.NOBODY", "delivered"))
    post_status(status_of(in_flight[0], "delivered"))

    run_jobs()

    unknown = ProviderEvent.objects.get(body__contains="wamid.NOBODY")
    known = ProviderEvent.objects.get(body__contains=in_flight[0].provider_message_id)
    assert unknown.error == "wamid.NOBODY: no matching delivery attempt"
    assert unknown.processed_at is not None
    assert known.error == ""
    assert known.processed_at is not None


def test_failed_batch_retried_one_by_one(post_status, in_flight, monkeypatch):
    def broken(statuses):
        raise RuntimeError("bulk update failed")

    monkeypatch.setattr(status_batch, "apply", broken)
    for attempt in in_flight:
        post_status(status_of(attempt, "delivered"))

    assert process_pending_events() == 5

    delivered = DeliveryAttempt.objects.filter(status=AttemptStatus.DELIVERED)
    assert delivered.count() == 5


def test_broken_event_left_for_sweeper(post_status, in_flight, monkeypatch):
    # An event that is not a message status takes the one-by-one path.
    account_update = {
        "object": "whatsapp_business_account",
        "entry": [{"id": "1", "changes": [{"field": "account_update", "value": {}}]}],
    }
    post_status(account_update)
    post_status(status_of(in_flight[1], "delivered"))
    broken_id = ProviderEvent.objects.get(body__contains="account_update").pk
    original = events._process_meta

    def fails_once_stored(event):
        if event.pk == broken_id:
            raise RuntimeError("database went away")
        original(event)

    monkeypatch.setattr(events, "_process_meta", fails_once_stored)
    process_pending_events()

    assert ProviderEvent.objects.get(pk=broken_id).processed_at is None
    in_flight[1].refresh_from_db()
    assert in_flight[1].status == AttemptStatus.DELIVERED

    # The sweeper queues the drain again for what waits longer than its cutoff.
    assert requeue_events(older_than=0) == 1


def test_drain_yields_to_lock_holder(post_status, in_flight):
    post_status(status_of(in_flight[0], "delivered"))
    connection = django_rq.get_queue("events").connection
    holder = connection.lock(DRAIN_LOCK, timeout=10)
    assert holder.acquire(blocking=False)

    assert process_pending_events() == 0
    assert ProviderEvent.objects.filter(processed_at__isnull=True).count() == 1

    holder.release()
    assert process_pending_events() == 1


def test_duplicate_statuses_logged_once(post_status, run_jobs, in_flight):
    attempt = in_flight[0]
    for _ in range(3):
        post_status(status_of(attempt, "delivered"))

    run_jobs()

    decisions = Decision.objects.filter(recipient=attempt.recipient)
    assert decisions.count() == 1


def test_failures_fall_back_in_bulk(post_status, in_flight, django_assert_max_num_queries):
    for attempt in in_flight:
        post_status(status_of(attempt, "failed", code=131026, title="Message undeliverable"))

    # One by one, these 5 failures took about twelve queries each.
    with django_assert_max_num_queries(25):
        assert process_pending_events() == 5

    for attempt in in_flight:
        attempt.refresh_from_db()
        recipient = attempt.recipient
        assert attempt.status == AttemptStatus.FAILED
        assert attempt.error_code == "131026"
        assert recipient.status == RecipientStatus.SMS_PENDING
        assert recipient.fallback_triggered
        assert recipient.reason == "131026"
        assert recipient.contact.whatsapp_unreachable_at is not None
        decision = recipient.decisions.get()
        assert decision.action == "fallback SMS queued"
        assert decision.code == "131026"
        assert decision.rule


def test_terminal_failure_not_bulk(post_status, run_jobs, in_flight):
    post_status(status_of(in_flight[0], "failed", code=131051, title="Unsupported message type"))
    post_status(status_of(in_flight[1], "failed", code=131026, title="Message undeliverable"))

    run_jobs()

    first, second = (a.recipient for a in in_flight[:2])
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == RecipientStatus.FAILED_WHATSAPP
    assert first.decisions.get().action == "stopped: this error does not fall back"
    assert second.status == RecipientStatus.SMS_PENDING


def test_cancelled_campaign_failure_not_sent(post_status, run_jobs, in_flight):
    campaign = in_flight[0].recipient.campaign
    campaign.status = CampaignStatus.CANCELLED
    campaign.save()
    post_status(status_of(in_flight[0], "failed", code=131026, title="Message undeliverable"))

    run_jobs()

    recipient = in_flight[0].recipient
    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.CANCELLED
    assert recipient.decisions.get().action == "no fallback: campaign cancelled"


def test_callback_with_other_wamid_ignored(post_status, run_jobs, in_flight):
    # The callback data names an attempt, but the wamid is another message's.
    attempt = in_flight[0]
    post_status(whatsapp_status("wamid.FIRST", "delivered", attempt_id=attempt.pk))
    post_status(
        whatsapp_status(
            "wamid.SECOND", "failed", attempt_id=attempt.pk, code=131026, title="Undeliverable"
        )
    )

    run_jobs()

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.ACCEPTED
    assert attempt.recipient.status == RecipientStatus.WHATSAPP_SENDING
    for wamid in ("wamid.FIRST", "wamid.SECOND"):
        event = ProviderEvent.objects.get(body__contains=wamid)
        assert event.error == f"{wamid}: no matching delivery attempt"


def statuses_together(*payloads):
    """Return one Meta webhook body that carries the statuses of all the payloads."""
    combined = payloads[0]
    statuses = combined["entry"][0]["changes"][0]["value"]["statuses"]
    for payload in payloads[1:]:
        statuses += payload["entry"][0]["changes"][0]["value"]["statuses"]
    return combined


def test_bulk_statuses_link_their_attempt(post_status, in_flight):
    first, second = in_flight[:2]
    post_status(status_of(first, "delivered"))
    post_status(statuses_together(status_of(first, "sent"), status_of(first, "read")))
    post_status(statuses_together(status_of(first, "read"), status_of(second, "read")))
    post_status(statuses_together(status_of(second, "read"), whatsapp_status("wamid.NONE", "read")))

    assert process_pending_events() == 4

    linked = list(ProviderEvent.objects.order_by("pk").values_list("attempt", flat=True))
    assert linked == [first.pk, first.pk, None, None]


def test_one_by_one_status_links_attempt(post_status, in_flight):
    # A status Switchback does not act on takes the one-by-one path.
    post_status(status_of(in_flight[0], "played"))
    post_status(whatsapp_status("wamid.NONE", "played"))

    assert process_pending_events() == 2

    known, unknown = ProviderEvent.objects.order_by("pk")
    assert known.attempt == in_flight[0]
    assert known.error == f"{in_flight[0].provider_message_id}: status 'played' not acted on"
    assert unknown.attempt is None


def test_replayed_event_links_attempt(post_status, in_flight):
    post_status(status_of(in_flight[0], "delivered"))
    event = ProviderEvent.objects.get()

    events.process_event(event.pk)

    event.refresh_from_db()
    assert event.attempt == in_flight[0]
    assert event.processed_at is not None
