"""Sender tokens never appear in API output, whatever the endpoint or error."""

import pytest
from rest_framework.test import APIClient

from campaigns.api.throttling import request_history
from campaigns.api.urls import router
from campaigns.models import ApiKey, Recipient
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

pytestmark = pytest.mark.django_db

WHATSAPP_TOKEN = "wa-secret-api-51c2"
TWILIO_TOKEN = "tw-secret-api-8e07"


@pytest.fixture
def api() -> APIClient:
    request_history().clear()
    sub_account = SubAccountFactory.create(
        whatsapp_access_token=WHATSAPP_TOKEN, twilio_auth_token=TWILIO_TOKEN
    )
    template = TemplateFactory(sub_account=sub_account)
    campaign = CampaignFactory(sub_account=sub_account, template=template)
    contact = ContactFactory(sub_account=sub_account)
    Recipient.objects.create(campaign=campaign, contact=contact, phone=contact.phone)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(sub_account, 'tests')[1]}")
    return client


def assert_no_token(body: str) -> None:
    assert WHATSAPP_TOKEN not in body
    assert TWILIO_TOKEN not in body


@pytest.mark.parametrize("prefix", [prefix for prefix, _, _ in router.registry])
def test_list_output_has_no_token(api, prefix):
    response = api.get(f"/api/v1/{prefix}/")
    assert response.status_code == 200
    assert_no_token(response.content.decode())


def test_campaign_detail_has_no_token(api):
    campaign_id = api.get("/api/v1/campaigns/").json()["results"][0]["id"]
    response = api.get(f"/api/v1/campaigns/{campaign_id}/")
    assert response.status_code == 200
    assert_no_token(response.content.decode())


def test_error_output_has_no_token(api):
    bad = api.post("/api/v1/campaigns/", {"name": ""}, format="json")
    missing = api.get("/api/v1/campaigns/999999/")
    assert bad.status_code == 400
    assert missing.status_code == 404
    assert_no_token(bad.content.decode())
    assert_no_token(missing.content.decode())


def test_schema_has_no_token(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert_no_token(response.content.decode())
