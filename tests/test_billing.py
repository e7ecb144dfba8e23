"""Billing: each recipient is charged for the channel that delivered."""

from decimal import Decimal

import pytest

from campaigns.models import CampaignStatus, Route
from reports.billing import estimate
from reports.figures import campaign_figures
from tests.factories import CampaignFactory, ContactFactory
from tests.report_data import SMS_GB, SMS_US, WHATSAPP_GB, A, S, add_rates, recipient

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    made = CampaignFactory(status=CampaignStatus.RUNNING)
    add_rates(made)
    return made


def test_sms_after_whatsapp_failed(campaign):
    recipient(
        campaign,
        S.DELIVERED_SMS,
        whatsapp=(A.FAILED, "131026"),
        sms=(A.DELIVERED, "", 2),
        fallback_triggered=True,
    )
    assert campaign_figures(campaign).total.spend.cost == 2 * SMS_GB


def test_both_failed_costs_nothing(campaign):
    recipient(
        campaign,
        S.FAILED_BOTH,
        whatsapp=(A.FAILED, "131026"),
        sms=(A.FAILED, "30006", 1),
        fallback_triggered=True,
    )
    assert campaign_figures(campaign).total.spend.cost == Decimal("0")


def test_delivered_both_charges_both(campaign):
    recipient(
        campaign,
        S.DELIVERED_SMS,
        whatsapp=(A.DELIVERED, "131026"),
        sms=(A.DELIVERED, "", 1),
        fallback_triggered=True,
        delivered_both=True,
    )
    total = campaign_figures(campaign).total
    assert total.spend.channels["whatsapp"].cost == WHATSAPP_GB
    assert total.spend.channels["sms"].cost == SMS_GB
    assert total["delivered_both"] == 1


def test_agency_price_adds_markup(campaign):
    recipient(campaign, S.DELIVERED_WHATSAPP, whatsapp=(A.READ, ""))
    assert campaign_figures(campaign).total.spend.price == WHATSAPP_GB * Decimal("1.25")


def test_missing_rate_counted_unpriced(campaign):
    recipient(
        campaign, S.DELIVERED_SMS, route=Route.DIRECT_SMS, sms=(A.DELIVERED, "", 1), country="FR"
    )
    sms = campaign_figures(campaign).total.spend.channels["sms"]
    assert sms.unpriced == 1
    assert sms.cost == Decimal("0")


def test_sms_without_segments_uses_text(campaign):
    recipient(campaign, S.DELIVERED_SMS, route=Route.DIRECT_SMS, sms=(A.DELIVERED, "", None))
    assert campaign_figures(campaign).total.spend.cost == SMS_GB


def test_estimate_routes_audience(campaign):
    ContactFactory(sub_account=campaign.sub_account, phone="+447400123456")  # WhatsApp first
    ContactFactory(sub_account=campaign.sub_account, phone="+14155550123", country="US")
    ContactFactory(sub_account=campaign.sub_account, phone="12")  # invalid: skipped
    spend = estimate(campaign)
    assert spend.channels["whatsapp"].cost == WHATSAPP_GB
    assert spend.channels["sms"].cost == SMS_US


def test_estimate_after_launch(campaign):
    recipient(campaign, S.DELIVERED_WHATSAPP, whatsapp=(A.READ, ""))
    recipient(campaign, S.FAILED_BOTH, route=Route.DIRECT_SMS, sms=(A.FAILED, "30006", 1))
    recipient(campaign, S.SKIPPED, route=Route.NONE)
    spend = estimate(campaign)
    assert spend.channels["whatsapp"].cost == WHATSAPP_GB
    # The factory's fallback text fits one segment.
    assert spend.channels["sms"].cost == SMS_GB
