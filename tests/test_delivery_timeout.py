"""The no-delivery timeout through the sandbox: a WhatsApp number that never reports
delivered, a campaign that waits a few minutes for it, and the clock moved forward."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import django_rq
import pytest
import requests
import time_machine
from django.conf import settings
from django.db import connection
from django.utils import timezone
from rq.registry import ScheduledJobRegistry

from campaigns import controls
from campaigns.decision_log import explain_recipient
from campaigns.launch import start_launch
from campaigns.models import Campaign, Contact, Recipient
from messaging.delivery_timeout import fall_back_overdue
from messaging.models import Channel, DeliveryAttempt
from messaging.sweeper import sweep
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory
from tests.webhook_payloads import encode, meta_signature, whatsapp_status

pytestmark = pytest.mark.django_db(transaction=True)

SILENT = "+447400123456"
TIMEOUT_MINUTES = 5


@pytest.fixture
def sub_account(sandbox):
    sandbox.configure(unreachable_percent=0, whatsapp_silent_numbers=[SILENT], webhook_delay_ms=30)
    return SubAccountFactory()


def launched(sub_account, timeout: int | None = TIMEOUT_MINUTES, **contact) -> Recipient:
    """Launch a one-recipient campaign to the silent number; return it once sent."""
    ContactFactory(sub_account=sub_account, phone=SILENT, first_name="Ana", **contact)
    template = TemplateFactory(sub_account=sub_account, name="spring_sale")
    campaign = CampaignFactory.create(
        sub_account=sub_account, template=template, whatsapp_delivery_timeout_minutes=timeout
    )
    start_launch(campaign)
    assert wait_until(lambda: status_of(campaign) == "whatsapp_sent")
    return Recipient.objects.get(campaign=campaign)


def status_of(campaign: Campaign) -> str | None:
    return Recipient.objects.filter(campaign=campaign).values_list("status", flat=True).first()


def refreshed(recipient: Recipient) -> Recipient:
    recipient.refresh_from_db()
    return recipient


def sms_sent(sandbox) -> list[str]:
    return [message["to"] for message in sandbox.messages("sms")]


def later(minutes: float):
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=True)


def post_whatsapp_status(live_server, recipient: Recipient, status: str) -> None:
    attempt = DeliveryAttempt.objects.get(recipient=recipient, channel=Channel.WHATSAPP)
    payload = whatsapp_status(
        attempt.provider_message_id,
        status,
        attempt_id=attempt.pk,
        phone_number_id=recipient.campaign.sub_account.whatsapp_phone_number_id,
        recipient=recipient.phone[1:],
    )
    body = encode(payload)
    response = requests.post(
        f"{live_server.url}/webhooks/whatsapp/",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Hub-Signature-256": meta_signature(body, settings.META_APP_SECRET),
        },
        timeout=10,
    )
    assert response.status_code == 200


def log_text(recipient: Recipient) -> str:
    return "\n".join(explain_recipient(recipient))


def test_timeout_off_stays_sent(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account, timeout=None)

    with later(60 * 24):
        run_jobs()
        sweep()
        run_jobs()

    assert refreshed(recipient).status == "whatsapp_sent"
    assert sms_sent(sandbox) == []


def test_not_before_deadline(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account)

    with later(TIMEOUT_MINUTES - 1):
        run_jobs()
        sweep()
        run_jobs()

    assert refreshed(recipient).status == "whatsapp_sent"
    assert sms_sent(sandbox) == []


def test_timeout_sends_sms_once(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account)

    with later(TIMEOUT_MINUTES + 1):
        # The check scheduled after the batch, not the sweeper, moves the recipient here.
        assert wait_until(lambda: refreshed(recipient).status == "delivered_sms")
        # Later checks find the deadline handled and send nothing more.
        sweep()
        fall_back_overdue()
        run_jobs()

    recipient = refreshed(recipient)
    assert sms_sent(sandbox) == [SILENT]
    assert recipient.fallback_triggered
    assert recipient.reason == "no_delivery_report"
    assert f"no WhatsApp delivery report within {TIMEOUT_MINUTES} minutes" in log_text(recipient)
    assert "fallback SMS queued" in log_text(recipient)


def test_late_delivered_marks_both(sub_account, sandbox, live_server):
    recipient = launched(sub_account)
    with later(TIMEOUT_MINUTES + 1):
        assert wait_until(lambda: refreshed(recipient).status == "delivered_sms")

        post_whatsapp_status(live_server, recipient, "delivered")
        assert wait_until(lambda: refreshed(recipient).delivered_both)

    assert refreshed(recipient).status == "delivered_sms"
    assert "recorded as delivered on both channels" in log_text(recipient)


def test_cancel_before_timeout(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account)
    controls.cancel(recipient.campaign)

    with later(TIMEOUT_MINUTES + 1):
        run_jobs()
        sweep()
        run_jobs()

    assert sms_sent(sandbox) == []
    assert refreshed(recipient).status == "whatsapp_sent"
    assert "no fallback: campaign cancelled" in log_text(recipient)


def test_sweeper_after_lost_job(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account)
    scheduled = ScheduledJobRegistry(queue=django_rq.get_queue("default"))
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)

    with later(TIMEOUT_MINUTES + 1):
        run_jobs()
        assert refreshed(recipient).status == "whatsapp_sent"

        report = sweep()
        assert wait_until(lambda: refreshed(recipient).status == "delivered_sms")

    assert report.timed_out == 1
    assert sms_sent(sandbox) == [SILENT]


def test_sms_opt_out_blocks_fallback(sub_account, sandbox, run_jobs):
    recipient = launched(sub_account, sms_opt_out_at=timezone.now())

    with later(TIMEOUT_MINUTES + 1):
        run_jobs()

    assert refreshed(recipient).status == "whatsapp_sent"
    assert sms_sent(sandbox) == []
    assert "no fallback possible: the contact opted out of SMS" in log_text(recipient)


def test_delivered_while_paused_drops_sms(sub_account, sandbox, live_server, run_jobs):
    recipient = launched(sub_account)
    campaign = recipient.campaign
    controls.pause(campaign)

    with later(TIMEOUT_MINUTES + 1):
        run_jobs()
        assert refreshed(recipient).status == "sms_pending"

        post_whatsapp_status(live_server, recipient, "delivered")
        assert wait_until(lambda: refreshed(recipient).status == "delivered_whatsapp")
        controls.resume(campaign)
        run_jobs()

    recipient = refreshed(recipient)
    assert sms_sent(sandbox) == []
    assert not recipient.fallback_triggered
    assert "the SMS is not sent" in log_text(recipient)


def test_contact_unchanged(sub_account, sandbox, run_jobs):
    """Falling back on a timeout learns nothing about the number, unlike a 131026."""
    recipient = launched(sub_account)

    with later(TIMEOUT_MINUTES + 1):
        assert wait_until(lambda: refreshed(recipient).status == "delivered_sms")

    contact = Contact.objects.get(pk=recipient.contact_id)
    assert contact.whatsapp_unreachable_at is None


def test_concurrent_checks_fall_back_once():
    """Workers checking the same deadline at once queue one fallback between them."""
    campaign = CampaignFactory.create(status="running", whatsapp_delivery_timeout_minutes=1)
    contact = ContactFactory(sub_account=campaign.sub_account, phone=SILENT)
    recipient = Recipient.objects.create(
        campaign=campaign, contact=contact, phone=SILENT, country="GB", status="whatsapp_sent"
    )
    DeliveryAttempt.objects.create(
        recipient=recipient,
        channel=Channel.WHATSAPP,
        status="sent",
        tries=1,
        delivery_due_at=timezone.now() - timedelta(seconds=1),
    )

    def check() -> int:
        try:
            return fall_back_overdue(campaign.pk)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: check(), range(4)))

    assert sum(results) == 1
    assert refreshed(recipient).status == "sms_pending"
    assert recipient.decisions.filter(action="fallback SMS queued").count() == 1
