"""Statuses that arrive early, late or twice are applied once and never move backwards."""

import pytest

from messaging import outcomes
from messaging.models import AttemptStatus, DeliveryAttempt
from messaging.providers import SendResult
from tests.factories import RecipientFactory
from tests.webhook_payloads import whatsapp_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def sending_attempt():
    """An attempt whose send request is still in flight: no wamid stored yet."""
    recipient = RecipientFactory(status="whatsapp_sending")
    return DeliveryAttempt.objects.create(
        recipient=recipient, channel="whatsapp", status=AttemptStatus.SENDING, tries=1
    )


def test_status_before_send_response_applied(post_status, run_jobs, sending_attempt):
    post_status(whatsapp_status("wamid.EARLY", "delivered", attempt_id=sending_attempt.pk))
    run_jobs()

    sending_attempt.refresh_from_db()
    assert sending_attempt.status == AttemptStatus.DELIVERED
    assert sending_attempt.provider_message_id == "wamid.EARLY"
    sending_attempt.recipient.refresh_from_db()
    assert sending_attempt.recipient.status == "delivered_whatsapp"


def test_late_send_response_keeps_status(post_status, run_jobs, sending_attempt):
    post_status(whatsapp_status("wamid.EARLY", "delivered", attempt_id=sending_attempt.pk))
    run_jobs()
    outcomes.accepted(sending_attempt, SendResult("wamid.EARLY", "accepted"))

    sending_attempt.refresh_from_db()
    recipient = sending_attempt.recipient
    recipient.refresh_from_db()
    assert sending_attempt.status == AttemptStatus.DELIVERED
    assert recipient.status == "delivered_whatsapp"


def test_sent_after_delivered_ignored(post_status, run_jobs, sending_attempt):
    post_status(whatsapp_status("wamid.X", "delivered", attempt_id=sending_attempt.pk))
    post_status(whatsapp_status("wamid.X", "sent", attempt_id=sending_attempt.pk))
    run_jobs()

    sending_attempt.refresh_from_db()
    assert sending_attempt.status == AttemptStatus.DELIVERED


def test_status_matched_by_wamid_alone(post_status, run_jobs):
    recipient = RecipientFactory(status="whatsapp_sent")
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient,
        channel="whatsapp",
        status=AttemptStatus.ACCEPTED,
        provider_message_id="wamid.ONLY",
        tries=1,
    )
    post_status(whatsapp_status("wamid.ONLY", "read"))
    run_jobs()

    attempt.refresh_from_db()
    recipient.refresh_from_db()
    assert attempt.status == AttemptStatus.READ
    assert recipient.status == "delivered_whatsapp"


def test_terminal_failure_does_not_fall_back(post_status, run_jobs, sending_attempt):
    post_status(
        whatsapp_status(
            "wamid.T",
            "failed",
            attempt_id=sending_attempt.pk,
            code=131051,
            title="Unsupported message type",
        )
    )
    run_jobs()

    recipient = sending_attempt.recipient
    recipient.refresh_from_db()
    assert recipient.status == "failed_whatsapp"
    assert recipient.reason == "131051"
    assert not DeliveryAttempt.objects.filter(channel="sms").exists()
    assert "does not fall back" in recipient.decisions.last().action
