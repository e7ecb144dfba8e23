"""Cost estimate of a campaign from the agency's rate card."""

from typing import Any

import pytest

from campaigns.models import CampaignStatus, RecipientStatus, Route
from tests.factories import CampaignFactory, ContactFactory
from tests.report_data import add_rates, recipient

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"


@pytest.fixture
def draft(sub_account):
    made = CampaignFactory(sub_account=sub_account)
    add_rates(made)
    ContactFactory(sub_account=sub_account, phone="+447400123456")  # WhatsApp first
    ContactFactory(sub_account=sub_account, phone="+14155550123", country="US")  # direct SMS
    ContactFactory(sub_account=sub_account, phone="12")  # invalid: skipped
    return made


def estimate(api, campaign) -> dict:
    return api.get(f"{CAMPAIGNS}{campaign.pk}/estimate/").json()


def test_draft_routes_audience(api, draft):
    assert estimate(api, draft)["based_on"] == "audience"


def test_draft_whatsapp_cost(api, draft):
    channels = estimate(api, draft)["spend"]["channels"]
    assert (channels["whatsapp"]["messages"], channels["whatsapp"]["cost"]) == (1, "0.05000")


def test_draft_sms_cost(api, draft):
    assert estimate(api, draft)["spend"]["channels"]["sms"]["cost"] == "0.01000"


def test_draft_price_has_markup(api, draft):
    # (0.05 + 0.01) × 1.25
    assert estimate(api, draft)["spend"]["price"] == "0.07500"


def test_missing_rate_is_unpriced(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account, phone="+447400123456")
    whatsapp = estimate(api, campaign)["spend"]["channels"]["whatsapp"]
    assert (whatsapp["unpriced"], whatsapp["cost"]) == (1, "0.00000")


def test_launched_uses_recipients(api, sub_account):
    campaign: Any = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    add_rates(campaign)
    recipient(campaign, RecipientStatus.PENDING, route=Route.WHATSAPP)
    result = estimate(api, campaign)
    assert (result["based_on"], result["spend"]["cost"]) == ("recipients", "0.05000")


def test_other_sub_account_estimate_is_404(api, other_sub_account):
    hidden = CampaignFactory(sub_account=other_sub_account)
    assert api.get(f"{CAMPAIGNS}{hidden.pk}/estimate/").status_code == 404
