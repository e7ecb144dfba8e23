"""The rows a launch writes: one recipient and one "campaign launched" decision per
contact, in batches, with COPY on PostgreSQL and bulk_create on SQLite."""

from typing import cast

import phonenumbers
import pytest
from django.utils import timezone

from campaigns import launch, routing
from campaigns.launch import launch_campaign
from campaigns.models import Campaign, CampaignStatus, Contact, Decision, Recipient
from messaging.models import WebhookDelivery, WebhookEndpoint
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory

pytestmark = pytest.mark.django_db

GB_MOBILE = "+447400123456"
GB_MOBILE_SPACED = "+44 7400 123456"
GB_LANDLINE = "+442079460000"
US_MOBILE = "+12025550123"
CANADA_MOBILE = "+16135550123"
INVALID = "+99912345"

# Phone number -> (route, reason, words of its "campaign launched" decision).
EXPECTED = {
    GB_MOBILE: ("whatsapp", "", "WhatsApp first; the SMS text is the fallback"),
    GB_MOBILE_SPACED: (
        "none",
        "duplicate_number",
        "skipped: the same number is already in this campaign",
    ),
    GB_LANDLINE: ("whatsapp", "", "WhatsApp first; the SMS text is the fallback"),
    US_MOBILE: (
        "direct_sms",
        "us_marketing",
        "SMS directly, without a WhatsApp attempt: Meta refuses MARKETING templates to US "
        "numbers (131049), so SMS goes direct",
    ),
    INVALID: ("none", "invalid_number", "skipped: the phone number is not a valid number"),
}


@pytest.fixture
def launched(monkeypatch):
    # Two rows per batch, so five contacts take three batches and a partial last one.
    monkeypatch.setattr(launch, "BATCH_SIZE", 2)
    sub_account = SubAccountFactory()
    for phone in EXPECTED:
        ContactFactory(sub_account=sub_account, phone=phone)
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.LAUNCHING)
    WebhookEndpoint.objects.create(
        sub_account=sub_account, url="http://127.0.0.1:9/hook", events=["recipient.final"]
    )
    launch_campaign(campaign.pk)
    return campaign


def test_launch_routes_each_contact(launched):
    rows = Recipient.objects.filter(campaign=launched).values_list("phone", "route", "reason")
    assert {phone: (route, reason) for phone, route, reason in rows} == {
        phone: (route, reason) for phone, (route, reason, _) in EXPECTED.items()
    }


def test_launch_decision_words(launched):
    decisions = Decision.objects.filter(recipient__campaign=launched)
    found = {
        decision.recipient.phone: (decision.event, decision.code, decision.rule, decision.action)
        for decision in decisions.select_related("recipient")
    }
    assert decisions.count() == len(EXPECTED)
    assert found == {
        phone: ("campaign launched", reason, "routing", words)
        for phone, (_, reason, words) in EXPECTED.items()
    }


def test_launch_finishes_skipped_only(launched):
    recipients = Recipient.objects.filter(campaign=launched)
    assert all(r.finished_at is not None for r in recipients if r.status == "skipped")
    assert all(r.finished_at is None for r in recipients if r.status != "skipped")


def test_launch_stores_row_fields(launched):
    found = Recipient.objects.get(campaign=launched, phone=US_MOBILE)
    assert (found.status, found.country, found.contact.phone) == ("sms_pending", "GB", US_MOBILE)
    assert (found.fallback_triggered, found.delivered_both, found.send_after) == (
        False,
        False,
        None,
    )
    assert found.updated_at is not None


def test_launch_final_events_for_skipped(launched):
    payloads = WebhookDelivery.objects.filter(event="recipient.final").values_list(
        "payload", flat=True
    )
    assert sorted(payload["phone"] for payload in payloads) == sorted([GB_MOBILE_SPACED, INVALID])


def test_launch_routes_unreachable_to_sms():
    sub_account = SubAccountFactory()
    ContactFactory(sub_account=sub_account, phone=GB_MOBILE, whatsapp_unreachable_at=timezone.now())
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.LAUNCHING)
    launch_campaign(campaign.pk)
    found = Recipient.objects.get(campaign=campaign)
    assert (found.route, found.reason) == ("direct_sms", "whatsapp_unreachable")


def test_launch_without_contacts():
    campaign = CampaignFactory(status=CampaignStatus.LAUNCHING)
    launch_campaign(campaign.pk)
    assert Decision.objects.filter(recipient__campaign=campaign).count() == 0


# Isle of Man (+44 7624), a non-geographic +800 number, and numbers that parse but are
# too short or not in use.
@pytest.mark.parametrize(
    "phone",
    [
        GB_MOBILE,
        GB_LANDLINE,
        US_MOBILE,
        CANADA_MOBILE,
        "+447624123456",
        "+80012345678",
        "+4474001",
        "+12025550",
        "+11235550123",
    ],
)
def test_parse_valid_as_phonenumbers(phone):
    # parse() takes number_type != UNKNOWN as the validity check.
    expected = phonenumbers.is_valid_number(phonenumbers.parse(phone, None))
    assert (routing.parse(phone) is not None) == expected


@pytest.mark.parametrize(
    ("phone", "country_list", "blocker"),
    [
        (US_MOBILE, [], ""),
        (US_MOBILE, ["US"], ""),
        (US_MOBILE, ["GB"], "sms_country_not_enabled"),
        (CANADA_MOBILE, ["US"], "sms_country_not_enabled"),
        (GB_LANDLINE, [], "landline"),
    ],
)
def test_sms_blocker_country_list(phone, country_list, blocker):
    sub_account = SubAccountFactory(sms_countries=country_list)
    contact = cast(Contact, ContactFactory(sub_account=sub_account, phone=phone))
    campaign = cast(Campaign, CampaignFactory(sub_account=sub_account))
    assert routing.sms_blocker(contact, campaign) == blocker


def test_is_us_only_for_us_region():
    us, canada = routing.parse(US_MOBILE), routing.parse(CANADA_MOBILE)
    assert us is not None and routing.is_us(us)
    assert canada is not None and not routing.is_us(canada)
