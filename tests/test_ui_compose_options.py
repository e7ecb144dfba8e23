"""Marketer UI: cost estimate, schedule and drip, uploaded-list audience, report links."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns.launch import launch_campaign, start_launch
from campaigns.models import Campaign, CampaignStatus, TemplateCategory
from reports.models import SmsRate, WhatsAppRate
from tests.factories import (
    CampaignFactory,
    ContactFactory,
    RecipientFactory,
    SubAccountFactory,
    TemplateFactory,
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


# Schedule and drip


def _compose(marketer_client, sub_account, **fields):
    template = TemplateFactory(sub_account=sub_account)
    data = {
        "name": "Spring",
        "template": template.pk,
        "audience": "all",
        "var_0_source": "contact.first_name",
        "fallback_enabled": "on",
        "fallback_text": "Hi {first_name}, sale on.",
        **fields,
    }
    return marketer_client.post(reverse("campaigns:campaign_new"), data)


def test_send_at_read_in_sub_account_zone(marketer_client, sub_account):
    _compose(marketer_client, sub_account, send_mode="at", send_at="2030-06-01T09:00")
    campaign = Campaign.objects.get(name="Spring")
    # Berlin is UTC+2 in summer.
    assert campaign.send_at == datetime(2030, 6, 1, 7, 0, tzinfo=UTC)


def test_send_at_in_past_rejected(marketer_client, sub_account):
    response = _compose(marketer_client, sub_account, send_mode="at", send_at="2020-01-01T09:00")
    errors = response.context["form"].errors["send_at"]
    assert "in the past" in errors[0]
    assert 'id="id_send_at_error"' in response.content.decode()


def test_send_at_missing_rejected(marketer_client, sub_account):
    response = _compose(marketer_client, sub_account, send_mode="at", send_at="")
    assert "Pick the date and time" in response.context["form"].errors["send_at"][0]


def test_send_at_in_dst_gap_rejected(marketer_client, sub_account):
    # Berlin clocks jump from 02:00 to 03:00 on 2030-03-31.
    response = _compose(marketer_client, sub_account, send_mode="at", send_at="2030-03-31T02:30")
    assert "daylight saving" in response.context["form"].errors["send_at"][0]


def test_send_now_ignores_send_at(marketer_client, sub_account):
    _compose(marketer_client, sub_account, send_mode="now", send_at="2030-06-01T09:00")
    assert Campaign.objects.get(name="Spring").send_at is None


def test_drip_saved(marketer_client, sub_account):
    _compose(
        marketer_client,
        sub_account,
        drip_enabled="on",
        drip_size="100",
        drip_every_minutes="15",
        drip_weekdays=["0", "1", "2", "3", "4"],
        drip_start_hour="9",
        drip_end_hour="17",
    )
    campaign = Campaign.objects.get(name="Spring")
    assert campaign.drip_size == 100
    assert campaign.drip_every_minutes == 15
    assert campaign.drip_weekdays == [0, 1, 2, 3, 4]
    assert (campaign.drip_start_hour, campaign.drip_end_hour) == (9, 17)


def test_drip_missing_size_rejected(marketer_client, sub_account):
    response = _compose(
        marketer_client,
        sub_account,
        drip_enabled="on",
        drip_every_minutes="15",
        drip_weekdays=["0"],
    )
    assert "how many recipients" in response.context["form"].errors["drip_size"][0]


def test_drip_window_end_before_start(marketer_client, sub_account):
    response = _compose(
        marketer_client,
        sub_account,
        drip_enabled="on",
        drip_size="100",
        drip_every_minutes="15",
        drip_weekdays=["0"],
        drip_start_hour="17",
        drip_end_hour="9",
    )
    assert "end hour after the start" in response.context["form"].errors["drip_end_hour"][0]


def test_drip_without_weekday_rejected(marketer_client, sub_account):
    response = _compose(
        marketer_client, sub_account, drip_enabled="on", drip_size="5", drip_every_minutes="1"
    )
    assert "weekday" in response.context["form"].errors["drip_weekdays"][0]


def test_drip_off_clears_stored_drip(marketer_client, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, drip_size=10, drip_every_minutes=5)
    data = {
        "name": campaign.name,
        "template": campaign.template.pk,
        "audience": "all",
        "var_0_source": "contact.first_name",
        "fallback_enabled": "on",
        "fallback_text": "Hi",
    }
    marketer_client.post(reverse("campaigns:campaign_edit", args=[campaign.pk]), data)
    campaign.refresh_from_db()
    assert campaign.drip_size is None


def test_edit_shows_local_send_at(marketer_client, sub_account):
    campaign = CampaignFactory(
        sub_account=sub_account, send_at=datetime(2030, 6, 1, 7, 0, tzinfo=UTC)
    )
    response = marketer_client.get(reverse("campaigns:campaign_edit", args=[campaign.pk]))
    assert 'value="2030-06-01T09:00"' in response.content.decode()


def test_review_shows_schedule(marketer_client, sub_account):
    campaign = CampaignFactory(
        sub_account=sub_account,
        send_at=datetime(2030, 6, 1, 7, 0, tzinfo=UTC),
        drip_size=100,
        drip_every_minutes=15,
        drip_weekdays=[0, 1, 2, 3, 4],
        drip_start_hour=9,
        drip_end_hour=17,
    )
    response = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    body = response.content.decode()
    assert "Scheduled for Sat 2030-06-01 09:00 Europe/Berlin." in body
    assert "100 recipients every 15 minutes, Mon, Tue, Wed, Thu, Fri, 09:00-17:00" in body


def test_campaign_page_shows_wait_reason(marketer_client, sub_account):
    campaign = CampaignFactory(
        sub_account=sub_account,
        status=CampaignStatus.RUNNING,
        status_reason="Waiting: Scheduled for 2030-06-01 09:00 CEST.",
    )
    response = marketer_client.get(reverse("campaigns:campaign_progress", args=[campaign.pk]))
    assert "Waiting: Scheduled for 2030-06-01 09:00 CEST." in response.content.decode()


# Uploaded list audience


def _upload(content: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def _list_fields(template, upload) -> dict[str, object]:
    return {
        "name": "Listed",
        "template": template.pk,
        "audience": "list",
        "phone_list": upload,
        "var_0_source": "contact.first_name",
        "fallback_enabled": "on",
        "fallback_text": "Hi {first_name}, sale on.",
    }


def test_live_count_from_uploaded_list(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account, phone="+447400123001")
    ContactFactory(sub_account=sub_account, phone="+447400123002")
    ContactFactory(sub_account=sub_account, phone="+447400123003")
    upload = _upload("Phone\n+44 7400 123001\n07400123002\n+447400999999\nnot a number\n")
    data = {**_list_fields(template, upload), "list_region": "GB"}
    response = marketer_client.post(reverse("campaigns:compose_live"), data)
    assert response.context["counts"].total == 2
    report = response.context["phone_list"]
    assert report["numbers"] == 3
    assert report["unknown"] == ["+447400999999"]
    assert report["invalid_rows"][0].row_number == 5


def test_live_count_zero_before_upload(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account)
    data = {**_list_fields(template, None), "phone_list": ""}
    response = marketer_client.post(reverse("campaigns:compose_live"), data)
    assert response.context["counts"].total == 0


def test_uploaded_list_saved_and_reviewed(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account, phone="+447400123001")
    ContactFactory(sub_account=sub_account, phone="+447400123002")
    upload = _upload("+447400123001\n+447400999999\n")
    marketer_client.post(reverse("campaigns:campaign_new"), _list_fields(template, upload))
    campaign = Campaign.objects.get(name="Listed")
    assert campaign.audience_phones == ["+447400123001", "+447400999999"]
    review = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    assert review.context["counts"].total == 1
    assert review.context["phone_list"]["unknown"] == ["+447400999999"]


def test_uploaded_list_kept_from_hidden_field(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    data = {**_list_fields(template, ""), "list_numbers": "+447400123001", "fallback_text": ""}
    response = marketer_client.post(reverse("campaigns:campaign_new"), data)
    assert "fallback_text" in response.context["form"].errors
    assert 'value="+447400123001"' in response.content.decode()


def test_uploaded_list_required(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    response = marketer_client.post(reverse("campaigns:campaign_new"), _list_fields(template, ""))
    assert "Upload a CSV" in response.context["form"].errors["phone_list"][0]


def test_uploaded_list_without_numbers_rejected(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    upload = _upload("Phone\nhello\n")
    response = marketer_client.post(
        reverse("campaigns:campaign_new"), _list_fields(template, upload)
    )
    assert "no valid phone number (row 2" in response.context["form"].errors["phone_list"][0]


def test_uploaded_list_pdf_rejected(marketer_client, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    upload = SimpleUploadedFile("list.pdf", b"%PDF-1.4 binary", content_type="application/pdf")
    response = marketer_client.post(
        reverse("campaigns:campaign_new"), _list_fields(template, upload)
    )
    assert "PDF" in response.context["form"].errors["phone_list"][0]


def test_launch_sends_only_to_list(sub_account):
    listed = ContactFactory(sub_account=sub_account, phone="+447400123001")
    ContactFactory(sub_account=sub_account, phone="+447400123002")
    campaign = CampaignFactory.create(sub_account=sub_account, audience_phones=[listed.phone])
    start_launch(campaign)
    launch_campaign(campaign.pk)
    assert list(campaign.recipients.values_list("phone", flat=True)) == [listed.phone]


def test_estimate_counts_only_list(marketer_client, sub_account):
    listed = ContactFactory(sub_account=sub_account, phone="+447400123001")
    ContactFactory(sub_account=sub_account, phone="+447400123002")
    campaign = CampaignFactory(sub_account=sub_account, audience_phones=[listed.phone])
    response = marketer_client.get(reverse("campaigns:campaign_review", args=[campaign.pk]))
    assert _lines(response)["WhatsApp"].messages == 1


def test_last_progress_poll_refreshes_spend(marketer_client, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.COMPLETED)
    response = marketer_client.get(reverse("campaigns:campaign_progress", args=[campaign.pk]))
    assert "campaign-finished" in response["HX-Trigger"]


def test_spend_of_other_sub_account_404(marketer_client):
    other = CampaignFactory(status=CampaignStatus.RUNNING)
    response = marketer_client.get(reverse("campaigns:campaign_spend", args=[other.pk]))
    assert response.status_code == 404
