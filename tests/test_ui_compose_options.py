"""Marketer UI: cost estimate, schedule and drip, uploaded-list audience, report links."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns.models import CampaignStatus, TemplateCategory
from reports.models import SmsRate, WhatsAppRate
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    RecipientFactory,
    SubAccountFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sub_account():
    sub_account = SubAccountFactory(name="Client A", timezone="Europe/Berlin")
    sub_account.agency.markup = Decimal("0.25")
    sub_account.agency.save()
    return sub_account


@pytest.fixture
def marketer_client(client, sub_account):
    user = User.objects.create_user("marketer-a", password="correct horse battery")
    sub_account.marketers.add(user)
    client.force_login(user)
    return client


def _lines(response) -> dict[str, object]:
    return {line.label: line for line in response.context["estimate_lines"]}


# Cost estimate


def test_review_estimate_prices_whatsapp(marketer_client, sub_account):
    WhatsAppRate.objects.create(
        agency=sub_account.agency,
        category=TemplateCategory.MARKETING,
        calling_code="44",
        price=Decimal("0.05"),
    )
    campaign = CampaignFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account, phone="+447400123001")
    ContactFactory(sub_account=sub_account, phone="+447400123002")
    response = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    whatsapp = _lines(response)["WhatsApp"]
    assert whatsapp.messages == 2
    assert whatsapp.cost == Decimal("0.10")
    assert whatsapp.price == Decimal("0.125")
    assert "0.1250" in response.content.decode()


def test_review_estimate_shows_no_rate(marketer_client, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    # US marketing goes straight to SMS, and the agency has no US SMS rate.
    ContactFactory(sub_account=sub_account, phone="+12025550123", country="US")
    response = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    sms = _lines(response)["SMS"]
    assert sms.all_unpriced
    assert "no rate" in response.content.decode()


def test_review_estimate_counts_sms_segments(marketer_client, sub_account):
    SmsRate.objects.create(agency=sub_account.agency, country="US", price=Decimal("0.01"))
    campaign = CampaignFactory(sub_account=sub_account, fallback_text="Hi 😀 " + "x" * 70)
    ContactFactory(sub_account=sub_account, phone="+12025550123", country="US")
    response = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    sms = _lines(response)["SMS"]
    assert sms.segments == 2
    assert sms.cost == Decimal("0.02")


def test_campaign_page_estimate_and_actual(marketer_client, sub_account):
    SmsRate.objects.create(agency=sub_account.agency, country="GB", price=Decimal("0.04"))
    WhatsAppRate.objects.create(
        agency=sub_account.agency,
        category=TemplateCategory.MARKETING,
        calling_code="44",
        price=Decimal("0.05"),
    )
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.COMPLETED)
    RecipientFactory(campaign=campaign, status="delivered_whatsapp")
    response = marketer_client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    estimated, actual = response.context["spend_rows"][0]
    assert estimated.cost == Decimal("0.05")
    assert actual.label == "WhatsApp"
    assert 'id="spend"' in response.content.decode()


# Report links


def test_campaign_page_links_report(marketer_client, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    response = marketer_client.get(reverse("campaigns:campaign_detail", args=[campaign.pk]))
    assert reverse("reports:report", args=["campaign", campaign.pk]) in response.content.decode()


def test_nav_links_reports(marketer_client):
    response = marketer_client.get(reverse("campaigns:campaign_list"))
    assert f'href="{reverse("reports:index")}"' in response.content.decode()
