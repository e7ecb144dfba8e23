"""A WhatsApp delivery reported after the fallback SMS went out counts on both channels."""

import pytest

from messaging.models import AttemptStatus, DeliveryAttempt
from tests.factories import RecipientFactory
from tests.webhook_payloads import whatsapp_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def fallen_back():
    """A recipient whose WhatsApp failed with 131026 and whose fallback SMS was sent."""
    recipient = RecipientFactory(status="sms_sent", reason="131026", fallback_triggered=True)
    whatsapp = DeliveryAttempt.objects.create(
        recipient=recipient,
        channel="whatsapp",
        status=AttemptStatus.FAILED,
        provider_message_id="wamid.LATE",
        error_code="131026",
        tries=1,
    )
    DeliveryAttempt.objects.create(
        recipient=recipient, channel="sms", status=AttemptStatus.SENT, tries=1
    )
    return whatsapp


def test_late_delivered_marks_both(post_status, run_jobs, fallen_back):
    post_status(whatsapp_status("wamid.LATE", "delivered", attempt_id=fallen_back.pk))
    run_jobs()

    recipient = fallen_back.recipient
    recipient.refresh_from_db()
    assert recipient.delivered_both
    assert recipient.status == "sms_sent"
    assert "delivered on both channels" in recipient.decisions.last().action


def test_late_delivered_twice_logged_once(post_status, run_jobs, fallen_back):
    post_status(whatsapp_status("wamid.LATE", "delivered", attempt_id=fallen_back.pk))
    post_status(whatsapp_status("wamid.LATE", "read", attempt_id=fallen_back.pk))
    run_jobs()

    both = fallen_back.recipient.decisions.filter(action__contains="both channels")
    assert both.count() == 1


def test_late_delivered_without_fallback_ignored(post_status, run_jobs):
    recipient = RecipientFactory(status="failed_whatsapp", reason="131051")
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient, channel="whatsapp", status=AttemptStatus.FAILED, tries=1
    )
    post_status(whatsapp_status("wamid.T", "delivered", attempt_id=attempt.pk))
    run_jobs()

    recipient.refresh_from_db()
    assert not recipient.delivered_both
    assert recipient.status == "failed_whatsapp"
