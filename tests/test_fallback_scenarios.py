"""Routing and final states through the sandbox: real HTTP both ways, real RQ jobs.

One test per routing rule and per final state, plus the stories that cross campaigns
(an opt-out, a learned 131026) and the ones that happen mid-campaign (template paused,
cancel), and retries that run out.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from campaigns import controls
from campaigns.decision_log import explain_recipient
from campaigns.launch import launch_campaign, start_launch
from campaigns.models import (
    Campaign,
    CampaignStatus,
    Contact,
    Recipient,
    RecipientStatus,
    Template,
    TemplateCategory,
)
from messaging.dispatch import claim
from messaging.events import process_event
from messaging.models import (
    Channel,
    DeliveryAttempt,
    PolicyOverride,
    ProviderEvent,
)
from messaging.sending import send_batch
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

pytestmark = pytest.mark.django_db(transaction=True)

GB_MOBILE = "+447400123456"
GB_UNREACHABLE = "+447400123457"
GB_LANDLINE = "+442079460000"
US_MOBILE = "+12025550123"
INVALID = "+99912345"


@pytest.fixture
def sub_account(sandbox, settings):
    settings.RETRY_BASE_SECONDS = 0.05
    settings.RETRY_PAIR_RATE_BASE_SECONDS = 0.05
    sandbox.configure(
        unreachable_percent=0,
        whatsapp_fail_codes={GB_UNREACHABLE: 131026, GB_LANDLINE: 131026},
        webhook_delay_ms=30,
    )
    return SubAccountFactory()


def campaign_for(sub_account, *phones, **options):
    for phone in phones:
        if not Contact.objects.filter(sub_account=sub_account, phone=phone).exists():
            ContactFactory(sub_account=sub_account, phone=phone, first_name="Ana")
    template_options = {"body": options.pop("body")} if "body" in options else {}
    template = TemplateFactory(
        sub_account=sub_account,
        name=options.pop("template_name", "spring_sale"),
        category=options.pop("category", TemplateCategory.MARKETING),
        provider_id=options.pop("provider_id", ""),
        **template_options,
    )
    return CampaignFactory(sub_account=sub_account, template=template, **options)


def finished(campaign: Campaign) -> bool:
    campaign.refresh_from_db()
    return campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED) and not (
        Recipient.objects.filter(campaign=campaign, finished_at__isnull=True).exists()
    )


def run(campaign: Campaign) -> Campaign:
    start_launch(campaign)
    assert wait_until(lambda: finished(campaign))
    return campaign


def recipient(campaign: Campaign, phone: str) -> Recipient:
    return Recipient.objects.get(campaign=campaign, phone=phone)


def sent_to(sandbox, channel: str) -> list[str]:
    return [message["to"] for message in sandbox.messages(channel)]


def log_text(found: Recipient) -> str:
    return "\n".join(explain_recipient(found))


# Routing rule 1: skip, with the reason.


def test_skip_invalid_number(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, INVALID, GB_MOBILE))

    found = recipient(campaign, INVALID)
    assert (found.status, found.reason) == ("skipped", "invalid_number")
    assert INVALID not in sent_to(sandbox, "whatsapp")


def test_skip_without_any_consent(sub_account, sandbox):
    ContactFactory(
        sub_account=sub_account,
        phone=GB_MOBILE,
        whatsapp_opt_out_at=timezone.now(),
        sms_opt_out_at=timezone.now(),
    )
    campaign = run(campaign_for(sub_account, GB_MOBILE, GB_UNREACHABLE))

    found = recipient(campaign, GB_MOBILE)
    assert (found.status, found.reason) == ("skipped", "no_consent")
    assert GB_MOBILE not in sent_to(sandbox, "whatsapp") + sent_to(sandbox, "sms")


def test_skip_duplicate_number(sub_account, sandbox):
    ContactFactory(sub_account=sub_account, phone="+44 7400 123456")
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    statuses = sorted(Recipient.objects.filter(campaign=campaign).values_list("status", "reason"))
    assert statuses == [("delivered_whatsapp", ""), ("skipped", "duplicate_number")]
    assert sent_to(sandbox, "whatsapp") == [GB_MOBILE]


# Routing rule 2: direct SMS where WhatsApp is known to fail.


def test_direct_sms_us_marketing(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, US_MOBILE))

    found = recipient(campaign, US_MOBILE)
    assert (found.route, found.status, found.reason) == (
        "direct_sms",
        "delivered_sms",
        "us_marketing",
    )
    assert sent_to(sandbox, "whatsapp") == []
    assert sent_to(sandbox, "sms") == [US_MOBILE]


def test_us_utility_goes_whatsapp_first(sub_account, sandbox):
    campaign = run(
        campaign_for(
            sub_account,
            US_MOBILE,
            template_name="order_update",
            category=TemplateCategory.UTILITY,
            body="Hi {{1}}, your order {{2}} has shipped.",
            variables=["contact.first_name", "A-1001"],
        )
    )

    assert recipient(campaign, US_MOBILE).status == "delivered_whatsapp"


def test_direct_sms_after_recent_131026(sub_account, sandbox):
    ContactFactory(
        sub_account=sub_account,
        phone=GB_MOBILE,
        whatsapp_unreachable_at=timezone.now() - timedelta(days=29),
    )
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    assert (found.route, found.status) == ("direct_sms", "delivered_sms")
    assert found.reason == "whatsapp_unreachable"


def test_old_131026_tries_whatsapp_again(sub_account, sandbox):
    ContactFactory(
        sub_account=sub_account,
        phone=GB_MOBILE,
        whatsapp_unreachable_at=timezone.now() - timedelta(days=31),
    )
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    assert recipient(campaign, GB_MOBILE).status == "delivered_whatsapp"


def test_direct_sms_after_whatsapp_opt_out(sub_account, sandbox):
    ContactFactory(sub_account=sub_account, phone=GB_MOBILE, whatsapp_opt_out_at=timezone.now())
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    assert (found.route, found.status, found.reason) == (
        "direct_sms",
        "delivered_sms",
        "whatsapp_opt_out",
    )
    assert sent_to(sandbox, "whatsapp") == []


# Routing rule 3: WhatsApp first.


def test_whatsapp_first_delivered(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    assert (found.route, found.status) == ("whatsapp", "delivered_whatsapp")
    assert sent_to(sandbox, "sms") == []


# Routing rule 4: no SMS where it cannot arrive or is not allowed.


def test_no_fallback_to_landline(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, GB_LANDLINE))

    found = recipient(campaign, GB_LANDLINE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026/landline")
    assert "no fallback possible" in log_text(found)
    assert sent_to(sandbox, "sms") == []


def test_no_fallback_to_learned_landline(sub_account, sandbox):
    ContactFactory(sub_account=sub_account, phone=GB_UNREACHABLE, line_type="landline")
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    assert recipient(campaign, GB_UNREACHABLE).reason == "131026/landline"


def test_no_fallback_to_country_not_enabled(sub_account, sandbox):
    sub_account.sms_countries = ["US"]
    sub_account.save()
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026/sms_country_not_enabled")
    assert sent_to(sandbox, "sms") == []


def test_no_fallback_after_sms_opt_out(sub_account, sandbox):
    ContactFactory(sub_account=sub_account, phone=GB_UNREACHABLE, sms_opt_out_at=timezone.now())
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026/sms_opt_out")
    assert sent_to(sandbox, "sms") == []


# Routing rule 5: quiet hours for SMS to US numbers.


def test_quiet_hours_defer_us_sms(sub_account, sandbox, run_jobs):
    night = datetime(2026, 12, 4, 7, 0, tzinfo=UTC)  # 02:00 in Washington, DC
    with time_machine.travel(night, tick=True) as traveller:
        campaign = campaign_for(sub_account, US_MOBILE)
        start_launch(campaign)
        run_jobs()

        held_recipient = recipient(campaign, US_MOBILE)
        assert held_recipient.status == "sms_pending"
        assert held_recipient.send_after == datetime(2026, 12, 4, 13, 0, tzinfo=UTC)  # 08:00 local
        assert sent_to(sandbox, "sms") == []
        assert "held until 08:00" in log_text(held_recipient)
        campaign.refresh_from_db()
        assert "quiet hours" in campaign.status_reason

        traveller.move_to(datetime(2026, 12, 4, 13, 0, 5, tzinfo=UTC))  # 08:00:05 local
        assert wait_until(lambda: finished(campaign))

    assert recipient(campaign, US_MOBILE).status == "delivered_sms"
    assert sent_to(sandbox, "sms") == [US_MOBILE]


def test_sub_account_window_defers_sms(sub_account, sandbox, run_jobs):
    sub_account.sms_window_end = datetime(2026, 1, 1, 20, 0).time()
    sub_account.save()
    evening = datetime(2026, 12, 5, 1, 30, tzinfo=UTC)  # 20:30 in Washington, DC
    with time_machine.travel(evening, tick=True):
        campaign = campaign_for(sub_account, US_MOBILE)
        start_launch(campaign)
        run_jobs()

    held_recipient = recipient(campaign, US_MOBILE)
    assert held_recipient.status == "sms_pending"
    assert held_recipient.send_after == datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # 08:00 next day
    assert sent_to(sandbox, "sms") == []


# Final states.


def test_fallback_delivered_by_sms(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("delivered_sms", "131026")
    assert found.fallback_triggered
    assert sent_to(sandbox, "sms") == [GB_UNREACHABLE]


def test_terminal_code_fails_whatsapp(sub_account, sandbox):
    sandbox.configure(whatsapp_fail_codes={GB_MOBILE: 131051})
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131051")
    assert sent_to(sandbox, "sms") == []


def test_fallback_off_fails_whatsapp(sub_account, sandbox):
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE, fallback_enabled=False))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026/fallback_off")
    assert sent_to(sandbox, "sms") == []


def test_both_failed(sub_account, sandbox):
    sandbox.configure(sms_fail_codes={GB_UNREACHABLE: 30004})
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_both", "131026/30004")
    log = log_text(found)
    assert "Message undeliverable" in log
    assert "30004: blocked by the person or the carrier" in log
    assert "nothing is retried" in log
    assert DeliveryAttempt.objects.get(recipient=found, channel=Channel.SMS).tries == 1


def test_override_stops_fallback_for_sub_account(sub_account, sandbox):
    PolicyOverride.objects.create(
        sub_account=sub_account, channel="whatsapp", code="131026", action="terminal"
    )
    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026")
    assert "overridden for this sub-account" in log_text(found)


# Mid-campaign events.


def test_template_paused_mid_campaign(sub_account, sandbox):
    body = "Hi {{1}}, the flash sale ends tonight."
    provider = sandbox.add_template("flash_sale", body)
    campaign = campaign_for(
        sub_account,
        GB_MOBILE,
        GB_UNREACHABLE,
        template_name="flash_sale",
        provider_id=provider["id"],
    )
    start_launch(campaign)
    launch_campaign(campaign.pk)

    sandbox.template_event(provider["id"], "PAUSED")
    assert wait_until_event("message_template_status_update")
    assert wait_until(lambda: finished(campaign))

    for phone in (GB_MOBILE, GB_UNREACHABLE):
        found = recipient(campaign, phone)
        assert (found.status, found.reason) == ("delivered_sms", "template_paused")
    assert sent_to(sandbox, "whatsapp") == []
    assert Template.objects.get(pk=campaign.template_id).status == "PAUSED"


def wait_until_event(field: str) -> bool:
    """Wait for a Meta webhook of `field` and apply it before any queued dispatch runs."""

    def arrived() -> bool:
        event = ProviderEvent.objects.filter(body__contains=field).first()
        if event is None:
            return False
        process_event(event.pk)
        return True

    return _poll(arrived)


def _poll(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_cancel_mid_campaign(sub_account, sandbox):
    sandbox.configure(webhook_delay_ms=300)
    campaign = campaign_for(sub_account, GB_MOBILE, GB_UNREACHABLE, US_MOBILE)
    start_launch(campaign)
    launch_campaign(campaign.pk)
    send_batch(claim(campaign.pk, Channel.WHATSAPP, limit=100))

    controls.cancel(campaign)
    assert wait_until(lambda: finished(campaign))

    assert recipient(campaign, GB_MOBILE).status == "delivered_whatsapp"
    unreachable = recipient(campaign, GB_UNREACHABLE)
    assert (unreachable.status, unreachable.reason) == ("cancelled", "131026/campaign_cancelled")
    direct = recipient(campaign, US_MOBILE)
    assert (direct.status, direct.reason) == ("cancelled", "campaign_cancelled")
    assert sent_to(sandbox, "sms") == []


# Facts that carry over to the next campaign.


def test_stop_then_next_campaign_skips_sms(sub_account, sandbox):
    ContactFactory(sub_account=sub_account, phone=GB_UNREACHABLE)
    send_inbound_sms(sandbox, sub_account, GB_UNREACHABLE, "stop")
    contact = Contact.objects.get(sub_account=sub_account, phone=GB_UNREACHABLE)
    assert wait_until(lambda: reloaded(contact).sms_opt_out_at is not None, 10)

    campaign = run(campaign_for(sub_account, GB_UNREACHABLE))

    found = recipient(campaign, GB_UNREACHABLE)
    assert (found.status, found.reason) == ("failed_whatsapp", "131026/sms_opt_out")
    assert sent_to(sandbox, "sms") == []


def test_131026_then_next_campaign_direct_sms(sub_account, sandbox):
    first = run(campaign_for(sub_account, GB_UNREACHABLE))
    second = run(campaign_for(sub_account, GB_UNREACHABLE, template_name="spring_sale_2"))

    assert recipient(first, GB_UNREACHABLE).route == "whatsapp"
    found = recipient(second, GB_UNREACHABLE)
    assert (found.route, found.status) == ("direct_sms", "delivered_sms")
    assert sent_to(sandbox, "whatsapp") == [GB_UNREACHABLE]


def send_inbound_sms(sandbox, sub_account, sender: str, body: str) -> None:
    sandbox._call(
        "POST",
        "/_sandbox/inbound/sms",
        json={
            "from": sender,
            "to": sub_account.sms_from_number,
            "body": body,
            "account_sid": sub_account.twilio_account_sid,
            "auth_token": sub_account.twilio_auth_token,
        },
    )


def reloaded(contact: Contact) -> Contact:
    contact.refresh_from_db()
    return contact


# Retries.


def test_retries_exhausted_on_whatsapp_5xx(sub_account, sandbox):
    sandbox.configure(whatsapp_sync_errors={GB_MOBILE: {"code": 131000, "times": 10}})
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    attempt = DeliveryAttempt.objects.get(recipient=found, channel=Channel.WHATSAPP)
    assert attempt.tries == 4
    assert (found.status, found.reason) == ("delivered_sms", "131000")
    assert "retries exhausted" in log_text(found)


def test_retries_exhausted_on_sms_5xx(sub_account, sandbox):
    sandbox.configure(error_5xx_percent=100)
    campaign = run(campaign_for(sub_account, US_MOBILE))

    found = recipient(campaign, US_MOBILE)
    attempt = DeliveryAttempt.objects.get(recipient=found, channel=Channel.SMS)
    assert attempt.tries == 4
    assert found.status == "failed_both"
    assert found.reason.startswith("us_marketing/205")
    assert sent_to(sandbox, "sms") == []


def test_retries_exhausted_on_130429(sub_account, sandbox):
    sandbox.configure(whatsapp_sync_errors={GB_MOBILE: {"code": 130429, "times": 10}})
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    attempt = DeliveryAttempt.objects.get(recipient=found, channel=Channel.WHATSAPP)
    assert attempt.tries == 6
    assert (found.status, found.reason) == ("failed_whatsapp", "130429")
    assert sent_to(sandbox, "sms") == []


def test_retry_then_delivered(sub_account, sandbox):
    sandbox.configure(whatsapp_sync_errors={GB_MOBILE: {"code": 130429, "times": 2}})
    campaign = run(campaign_for(sub_account, GB_MOBILE))

    found = recipient(campaign, GB_MOBILE)
    assert found.status == "delivered_whatsapp"
    assert DeliveryAttempt.objects.get(recipient=found, channel=Channel.WHATSAPP).tries == 3
    assert sent_to(sandbox, "sms") == []


# The demo's explanation output.


def test_demo_explains_each_final_state(sandbox, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from campaigns.management.commands.demo import SAMPLE_CSV, Command

    sample = tmp_path / "contacts.csv"
    sample.write_text("\n".join(SAMPLE_CSV.read_text().splitlines()[:60]) + "\n")
    sandbox.configure(webhook_delay_ms=10, unreachable_percent=20)
    call_command("demo", "--no-wait", "--csv", str(sample), stdout=StringIO())
    campaign = Campaign.objects.get()
    assert wait_until(lambda: finished(campaign), 60)

    output = StringIO()
    Command(stdout=output)._summary(campaign)
    text = output.getvalue()
    statuses = set(campaign.recipients.values_list("status", flat=True))
    for status in statuses:
        assert f"[{RecipientStatus(status).label}]" in text
    assert "states:" in text
    assert "reasons:" in text
    assert "-> fallback SMS queued" in text


def test_demo_stops_at_us_quiet_hours(sandbox, tmp_path):
    from io import StringIO

    from django.core.management import call_command

    from campaigns.management.commands.demo import SAMPLE_CSV, Command

    sample = tmp_path / "contacts.csv"
    sample.write_text("\n".join(SAMPLE_CSV.read_text().splitlines()[:30]) + "\n")
    sandbox.configure(webhook_delay_ms=10, unreachable_percent=0)
    night = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 02:00 in New York
    with time_machine.travel(night, tick=True):
        call_command("demo", "--no-wait", "--csv", str(sample), stdout=StringIO())
        campaign = Campaign.objects.get()
        demo = Command(stdout=StringIO())
        # Pair-rate waits of a few seconds do not count: the demo waits for those.
        later = timezone.now() + timedelta(minutes=10)
        assert wait_until(lambda: demo._only_later_sends_left(campaign, later), 60)

        demo._summary(campaign)

    text = demo.stdout.getvalue()
    assert f"campaign {campaign.pk} is waiting for later send times" in text
    assert "quiet hours" in text
    assert "SMS waiting to send" in text
