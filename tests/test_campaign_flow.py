"""A campaign end to end: launch, WhatsApp through the sandbox, webhooks back over HTTP,
SMS fallback, and every recipient final."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from campaigns.launch import start_launch
from campaigns.models import Campaign, CampaignStatus, Contact, Recipient
from messaging.models import DeliveryAttempt
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

pytestmark = pytest.mark.django_db(transaction=True)

GB_MOBILE = "+447400123456"
GB_MOBILE_UNREACHABLE = "+447400123457"
GB_LANDLINE_UNREACHABLE = "+442079460000"
US_MOBILE = "+12025550123"
CANADA_MOBILE = "+14165550123"
INVALID = "+99912345"


@pytest.fixture
def campaign(sandbox):
    sandbox.configure(
        unreachable_percent=0,
        whatsapp_fail_codes={GB_MOBILE_UNREACHABLE: 131026, GB_LANDLINE_UNREACHABLE: 131026},
        webhook_delay_ms=50,
    )
    sub_account = SubAccountFactory()
    template = TemplateFactory(sub_account=sub_account)
    for phone in (
        GB_MOBILE,
        GB_MOBILE_UNREACHABLE,
        GB_LANDLINE_UNREACHABLE,
        US_MOBILE,
        CANADA_MOBILE,
        INVALID,
    ):
        ContactFactory(sub_account=sub_account, phone=phone, first_name="Ana")
    return CampaignFactory(
        sub_account=sub_account, template=template, direct_sms_for_us_marketing=False
    )


def finished(campaign: Campaign) -> bool:
    campaign.refresh_from_db()
    return campaign.status == CampaignStatus.COMPLETED


def outcome(campaign: Campaign) -> dict[str, tuple[str, str]]:
    return {r.phone: (r.status, r.reason) for r in Recipient.objects.filter(campaign=campaign)}


def test_campaign_reaches_every_final_state(campaign, sandbox):
    start_launch(campaign)
    assert wait_until(lambda: finished(campaign))

    result = outcome(campaign)
    assert result[GB_MOBILE] == ("delivered_whatsapp", "")
    assert result[US_MOBILE] == ("delivered_sms", "131049")
    assert result[CANADA_MOBILE] == ("delivered_whatsapp", "")
    assert result[GB_MOBILE_UNREACHABLE] == ("delivered_sms", "131026")
    assert result[GB_LANDLINE_UNREACHABLE] == ("failed_whatsapp", "131026/landline")
    assert result[INVALID] == ("skipped", "invalid_number")


def test_campaign_sends_each_channel_once(campaign, sandbox):
    start_launch(campaign)
    assert wait_until(lambda: finished(campaign))

    whatsapp_to = sorted(m["to"] for m in sandbox.messages("whatsapp"))
    sms_to = sorted(m["to"] for m in sandbox.messages("sms"))
    assert len(whatsapp_to) == 5
    assert len(set(whatsapp_to)) == 5
    assert sms_to == sorted([GB_MOBILE_UNREACHABLE, US_MOBILE])


def test_duplicated_reordered_webhooks_send_one_sms(campaign, sandbox):
    sandbox.configure(duplicate_webhooks=True, reorder_webhooks=True)
    start_launch(campaign)
    assert wait_until(lambda: finished(campaign))

    sms_to = sorted(m["to"] for m in sandbox.messages("sms"))
    assert sms_to == sorted([GB_MOBILE_UNREACHABLE, US_MOBILE])
    assert DeliveryAttempt.objects.filter(channel="sms").count() == 2
    assert outcome(campaign)[US_MOBILE] == ("delivered_sms", "131049")


def test_direct_sms_for_us_marketing(campaign, sandbox):
    Campaign.objects.filter(pk=campaign.pk).update(direct_sms_for_us_marketing=True)
    campaign.refresh_from_db()
    start_launch(campaign)
    assert wait_until(lambda: finished(campaign))

    recipient = Recipient.objects.get(campaign=campaign, phone=US_MOBILE)
    assert (recipient.route, recipient.status) == ("direct_sms", "delivered_sms")
    assert US_MOBILE not in {m["to"] for m in sandbox.messages("whatsapp")}


def test_real_worker_process_runs_campaign(campaign, sandbox, settings):
    """The jobs run in a separate `rqworker` process, as in production."""
    # The worker process runs on the real clock, not the test's US afternoon, and US quiet
    # hours would hold the SMS to the US number until morning at some times of day.
    Contact.objects.filter(sub_account=campaign.sub_account, phone=US_MOBILE).delete()
    start_launch(campaign)
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        WHATSAPP_API_BASE_URL=settings.WHATSAPP_API_BASE_URL,
        TWILIO_API_BASE_URL=settings.TWILIO_API_BASE_URL,
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
    )
    root = Path(__file__).resolve().parent.parent

    # This worker class only drops RQ's command listener, whose exit can stall a minute.
    command = ["manage.py", "rqworker", "events", "default", "--burst"]
    command += ["--worker-class", "tests.conftest.BurstWorker"]

    def worker_finished() -> bool:
        subprocess.run(
            [sys.executable, *command],
            cwd=root,
            env=env,
            check=True,
            capture_output=True,
            timeout=60,
        )
        return finished(campaign)

    deadline_runs = 40
    while deadline_runs and not worker_finished():
        deadline_runs -= 1
    assert campaign.status == CampaignStatus.COMPLETED
    assert outcome(campaign)[GB_MOBILE_UNREACHABLE] == ("delivered_sms", "131026")


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
