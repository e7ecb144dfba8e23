"""Campaigns: create, controls, counters, recipients log; templates list."""

import pytest

from campaigns.models import Campaign, CampaignStatus, RecipientStatus
from messaging.models import DeliveryAttempt
from tests.factories import CampaignFactory, ContactFactory, RecipientFactory, TemplateFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"


def draft_body(template) -> dict:
    return {
        "name": "Spring",
        "template": template.pk,
        "audience_tags": ["vip"],
        "variables": ["contact.first_name"],
        "fallback_text": "Hi {first_name}, spring sale. Reply STOP to opt out.",
    }


def test_create_stores_audience(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    response = api.post(CAMPAIGNS, draft_body(template), format="json")
    assert Campaign.objects.get(pk=response.json()["id"]).audience_tags == ["vip"]


def test_create_with_other_template_is_400(api, other_sub_account):
    template = TemplateFactory(sub_account=other_sub_account)
    response = api.post(CAMPAIGNS, draft_body(template), format="json")
    assert list(response.json()["error"]["fields"]) == ["template"]


def test_create_checks_variable_count(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "variables": []}
    response = api.post(CAMPAIGNS, body, format="json")
    assert list(response.json()["error"]["fields"]) == ["variables"]


def test_other_sub_account_campaign_is_404(api, other_sub_account):
    campaign = CampaignFactory(sub_account=other_sub_account)
    assert api.get(f"{CAMPAIGNS}{campaign.pk}/").status_code == 404


def test_other_sub_account_campaign_launch_is_404(api, other_sub_account):
    campaign = CampaignFactory(sub_account=other_sub_account)
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/launch/").status_code == 404


def test_launch_moves_draft(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    ContactFactory(sub_account=sub_account)
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/launch/").json()["status"] == "launching"


def test_pause_of_draft_is_409(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/pause/").status_code == 409


def test_pause_and_resume(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    api.post(f"{CAMPAIGNS}{campaign.pk}/pause/")
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/resume/").json()["status"] == "running"


def test_cancel_ends_campaign(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    assert api.post(f"{CAMPAIGNS}{campaign.pk}/cancel/").json()["status"] == "cancelled"


def test_retrieve_has_live_counters(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    RecipientFactory(campaign=campaign, status=RecipientStatus.DELIVERED_SMS)
    counters = api.get(f"{CAMPAIGNS}{campaign.pk}/").json()["counters"]
    assert counters["delivered_sms"] == 1


def test_recipients_show_both_channels(api, sub_account):
    recipient = RecipientFactory(
        campaign=CampaignFactory(sub_account=sub_account),
        status=RecipientStatus.DELIVERED_SMS,
        reason="131026",
    )
    DeliveryAttempt.objects.create(recipient=recipient, channel="whatsapp", error_code="131026")
    DeliveryAttempt.objects.create(recipient=recipient, channel="sms", status="delivered")
    row = api.get(f"{CAMPAIGNS}{recipient.campaign_id}/recipients/").json()["results"][0]
    assert [a["channel"] for a in row["attempts"]] == ["whatsapp", "sms"]


def test_recipients_reason_in_words(api, sub_account):
    recipient = RecipientFactory(
        campaign=CampaignFactory(sub_account=sub_account), reason="landline"
    )
    row = api.get(f"{CAMPAIGNS}{recipient.campaign_id}/recipients/").json()["results"][0]
    assert row["reason_text"] == "the number is a landline and cannot take SMS"


def test_recipients_filter_by_reason_link(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    wanted = RecipientFactory(campaign=campaign, reason="131026/landline")
    RecipientFactory(campaign=campaign, reason="sms_opt_out")
    rows = api.get(f"{CAMPAIGNS}{campaign.pk}/recipients/?reason=landline").json()["results"]
    assert [r["id"] for r in rows] == [wanted.pk]


def test_recipients_filter_by_status_and_country(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    wanted = RecipientFactory(campaign=campaign, status="skipped", country="GB")
    RecipientFactory(campaign=campaign, status="skipped", country="US")
    RecipientFactory(campaign=campaign, status="pending", country="GB")
    url = f"{CAMPAIGNS}{campaign.pk}/recipients/?status=skipped&country=gb"
    assert [r["id"] for r in api.get(url).json()["results"]] == [wanted.pk]


def test_recipients_cursor_pages(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    made = [RecipientFactory(campaign=campaign).pk for _ in range(3)]
    first = api.get(f"{CAMPAIGNS}{campaign.pk}/recipients/?limit=2").json()
    second = api.get(first["next"]).json()
    assert [r["id"] for r in first["results"] + second["results"]] == made


def test_templates_are_scoped(api, sub_account, other_sub_account):
    TemplateFactory(sub_account=sub_account, name="mine")
    TemplateFactory(sub_account=other_sub_account, name="theirs")
    names = [t["name"] for t in api.get("/api/v1/templates/").json()["results"]]
    assert names == ["mine"]


def test_other_sub_account_template_is_404(api, other_sub_account):
    template = TemplateFactory(sub_account=other_sub_account)
    assert api.get(f"/api/v1/templates/{template.pk}/").status_code == 404


# Checks of the SMS text, template variables and audience


def test_create_rejects_misspelled_merge_field(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "fallback_text": "Hi {frist_name}, spring sale."}
    response = api.post(CAMPAIGNS, body, format="json")

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["fallback_text"]
    assert "{frist_name} (did you mean {first_name}?)" in message
    assert "{first_name}, {last_name}, {name}, {phone}, {email}, {country}" in message
    assert not Campaign.objects.exists()


def test_create_rejects_unmatched_brace(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "fallback_text": "Hi {first_name, spring sale."}
    response = api.post(CAMPAIGNS, body, format="json")

    [message] = response.json()["error"]["fields"]["fallback_text"]
    assert "unmatched '{' at character 4" in message


def test_update_with_bad_merge_field_keeps_text(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    stored = campaign.fallback_text
    response = api.patch(
        f"{CAMPAIGNS}{campaign.pk}/", {"fallback_text": "Hi {{first_name}}"}, format="json"
    )

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["fallback_text"]
    assert "write {first_name}" in message
    campaign.refresh_from_db()
    assert campaign.fallback_text == stored


def test_create_rejects_unknown_variable_source(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "variables": ["contact.nope"]}
    response = api.post(CAMPAIGNS, body, format="json")

    assert response.status_code == 400
    [message] = response.json()["error"]["fields"]["variables"]
    assert message.startswith("variables[0] (for {{1}}) is 'contact.nope'")
    assert "'contact.first_name'" in message
    assert not Campaign.objects.exists()


def test_create_rejects_number_variable(api, sub_account):
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "variables": [5]}
    response = api.post(CAMPAIGNS, body, format="json")

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["variables.0"] == ['5 is a JSON number, not a string. Send "5" for that text.']
    assert not Campaign.objects.exists()


def test_create_accepts_tag_before_contacts_exist(api, sub_account):
    # Contact imports run as jobs, so the tags of a file still importing must be accepted.
    template = TemplateFactory(sub_account=sub_account)
    body = {**draft_body(template), "audience_tags": ["imported-later"]}
    assert api.post(CAMPAIGNS, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ({"fallback_text": "Hi {frist_name}"}, "did you mean {first_name}?"),
        ({"variables": ["contact.nope"]}, "variables[0] (for {{1}}) is 'contact.nope'"),
    ],
)
def test_launch_rejects_stored_bad_content(api, sub_account, stored, expected):
    campaign = CampaignFactory(sub_account=sub_account, **stored)
    ContactFactory(sub_account=sub_account)
    response = api.post(f"{CAMPAIGNS}{campaign.pk}/launch/")

    assert response.status_code == 409
    assert expected in response.json()["error"]["message"]
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_launch_rejects_tag_no_contact_has(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, audience_tags=["nonexistent-tag"])
    ContactFactory(sub_account=sub_account, tags=["vip"])
    response = api.post(f"{CAMPAIGNS}{campaign.pk}/launch/")

    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "No contact has the tag 'nonexistent-tag'" in message
    assert "tag contacts first" in message
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not campaign.recipients.exists()
