"""Sends marked "sending" whose request was never made: released, never sent twice."""

import pytest

from campaigns import reasons
from campaigns.models import CampaignStatus, Recipient, RecipientStatus
from messaging import sending, unsent
from messaging.dispatch import claim
from messaging.models import AttemptStatus, Channel, DeliveryAttempt
from messaging.queue import redis
from messaging.sweeper import mark_unknown, release_abandoned
from tests.factories import CampaignFactory, ContactFactory, RecipientFactory
from tests.webhook_payloads import whatsapp_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def marked():
    """A claimed attempt moved to "sending" by dispatch, its request not made yet."""
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    contact = ContactFactory(sub_account=campaign.sub_account)
    recipient = Recipient.objects.create(campaign=campaign, contact=contact, phone=contact.phone)
    [attempt] = claim(campaign.pk, Channel.WHATSAPP, 1)
    assert sending._mark_sending([attempt]) == {attempt.pk}
    return attempt, recipient


def test_unsent_request_released(marked):
    attempt, recipient = marked

    assert release_abandoned(older_than=0) == 1

    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.PENDING
    assert not DeliveryAttempt.objects.filter(pk=attempt.pk).exists()
    # The worker that wakes up late must not send it: another one will.
    assert not unsent.take(attempt.pk)


def test_taken_marker_keeps_attempt(marked):
    attempt, recipient = marked
    assert unsent.take(attempt.pk)

    assert release_abandoned(older_than=0) == 0

    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.SENDING


def test_lost_marker_keeps_attempt(marked):
    attempt, _ = marked
    # A Redis flush loses the marker: the request may have been made.
    unsent.take(attempt.pk)

    assert unsent.release([attempt.pk]) == []
    assert release_abandoned(older_than=0) == 0


def test_unknown_outcome_ends_recipient():
    recipient = RecipientFactory(status=RecipientStatus.WHATSAPP_SENDING)
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient, channel="whatsapp", status=AttemptStatus.SENDING, tries=1
    )

    assert mark_unknown(older_than=0) == 1

    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.FAILED_WHATSAPP
    assert recipient.reason == reasons.OUTCOME_UNKNOWN
    assert recipient.finished_at is not None
    attempt.refresh_from_db()
    assert attempt.status == AttemptStatus.UNKNOWN


def test_late_delivery_revives_unknown(post_status, run_jobs):
    recipient = RecipientFactory(status=RecipientStatus.WHATSAPP_SENDING)
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient, channel="whatsapp", status=AttemptStatus.SENDING, tries=1
    )
    mark_unknown(older_than=0)

    post_status(whatsapp_status("wamid.LATE", "delivered", attempt_id=attempt.pk))
    run_jobs()

    recipient.refresh_from_db()
    assert recipient.status == RecipientStatus.DELIVERED_WHATSAPP
    assert recipient.reason == ""
    assert "after the outcome was marked unknown" in recipient.decisions.last().event


def test_markers_reuse_one_connection(monkeypatch):
    """Every send takes its marker. A new connection for each one held dispatch to about
    440 sends/s instead of 590 (benchmark a)."""
    connects = []
    # TCP or a Unix socket, depending on REDIS_URL.
    connection_class = redis().connection_pool.connection_class
    real_connect = connection_class._connect

    def counting_connect(self):
        connects.append(self)
        return real_connect(self)

    monkeypatch.setattr(connection_class, "_connect", counting_connect)
    unsent.mark(range(1, 51))
    for attempt_id in range(1, 51):
        assert unsent.take(attempt_id)

    assert len(connects) <= 1
