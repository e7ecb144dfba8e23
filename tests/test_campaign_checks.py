"""Checks of a campaign's SMS text, template variables and audience: the messages, the
launch that rejects stored bad input, and the admin form."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from campaigns import validation
from campaigns.forms.compose import CONTACT_FIELDS
from campaigns.launch import LaunchError, start_launch
from campaigns.models import Campaign, CampaignStatus
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

MERGE_FIELDS = "{first_name}, {last_name}, {name}, {phone}, {email}, {country}"


# SMS text


@pytest.mark.parametrize(
    "text",
    [
        "Hi {first_name}, sale on.",
        "Hi { name }, {phone} {email} {country} {last_name}",
        "No merge fields at all.",
        "",
    ],
)
def test_sms_text_valid(text):
    assert validation.sms_text_errors(text) == []


def test_sms_text_unknown_fields_named():
    [error] = validation.sms_text_errors("Hi {frist_name}, code {promo}")

    assert "{frist_name} (did you mean {first_name}?), {promo}," in error
    assert MERGE_FIELDS in error


def test_sms_text_field_names_are_case_sensitive():
    [error] = validation.sms_text_errors("Hi {First_Name}")

    assert "{First_Name} (did you mean {first_name}?)" in error


def test_sms_text_double_braces():
    [error] = validation.sms_text_errors("Hi {{first_name}}")

    assert "{{first_name}} in double braces" in error
    assert "write {first_name}" in error


def test_sms_text_unmatched_braces_with_positions():
    [error] = validation.sms_text_errors("50% off} for {first_name} {")

    assert "unmatched '}' at character 8, '{' at character 27" in error


# Template variables


def test_variables_valid():
    template = TemplateFactory.build(body="Hi {{1}}, code {{2}}")
    assert validation.variable_errors(["contact.first_name", "SPRING20"], template) == []


def test_variables_errors_name_position_and_value():
    template = TemplateFactory.build(body="{{1}} {{2}} {{3}}")
    errors = validation.variable_errors(["contact.nope", 5, " "], template)

    assert errors[0].startswith("variables[0] (for {{1}}) is 'contact.nope'")
    assert errors[1].startswith("variables[1] (for {{2}}) is 5, which is not a string")
    assert errors[2].startswith("variables[2] (for {{3}}) is empty")
    assert len(errors) == 3


def test_variables_count_checked():
    template = TemplateFactory.build(body="{{1}} {{2}}")
    [error] = validation.variable_errors(["contact.first_name"], template)

    assert "has 2 variables but 1 value was given" in error


def test_variables_not_a_list():
    [error] = validation.variable_errors({"1": "contact.first_name"})

    assert error.startswith("variables must be a JSON list of strings")


def test_compose_choices_are_variable_sources():
    assert tuple(value for value, _ in CONTACT_FIELDS) == validation.VARIABLE_SOURCES


# Launch


@pytest.mark.django_db
def test_launch_rejects_empty_sub_account():
    campaign = CampaignFactory.create()

    with pytest.raises(LaunchError, match="This sub-account has no contacts"):
        start_launch(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.launched_at is None


@pytest.mark.django_db
def test_launch_rejects_partly_misspelled_tags():
    campaign = CampaignFactory.create(audience_tags=["vip", "vpi"])
    ContactFactory(sub_account=campaign.sub_account, tags=["vip"])

    with pytest.raises(LaunchError) as raised:
        start_launch(campaign)
    assert "No contact has the tag 'vpi'. Did you mean 'vip' for 'vpi'?" in str(raised.value)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


@pytest.mark.django_db
def test_launch_rejects_list_without_contacts():
    campaign = CampaignFactory.create(audience_phones=["+447400123001", "+447400123002"])
    ContactFactory(sub_account=campaign.sub_account, phone="+447400123999")

    with pytest.raises(LaunchError, match="None of the 2 numbers in the uploaded list"):
        start_launch(campaign)


@pytest.mark.django_db
def test_launch_rejects_tags_outside_list():
    campaign = CampaignFactory.create(audience_tags=["vip"], audience_phones=["+447400123001"])
    ContactFactory(sub_account=campaign.sub_account, phone="+447400123001")
    ContactFactory(sub_account=campaign.sub_account, phone="+447400123002", tags=["vip"])

    with pytest.raises(LaunchError, match="No contact in the uploaded list has any of the tags"):
        start_launch(campaign)


@pytest.mark.django_db
def test_launch_lists_every_error():
    campaign = CampaignFactory.create(variables=["contact.nope"], fallback_text="Hi {frist_name}")

    with pytest.raises(LaunchError) as raised:
        start_launch(campaign)
    message = str(raised.value)
    assert "'contact.nope'" in message
    assert "{frist_name}" in message
    assert "no contacts" in message


@pytest.mark.django_db
def test_launch_ignores_text_when_fallback_off():
    # Routing sends no SMS with fallback off, so the text cannot reach anyone.
    campaign = CampaignFactory.create(fallback_enabled=False, fallback_text="Hi {frist_name}")
    ContactFactory(sub_account=campaign.sub_account)

    start_launch(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.LAUNCHING


# Admin


@pytest.fixture
def admin_client(client, db):
    client.force_login(User.objects.create_superuser("root", password=None))
    return client


def _admin_data(campaign: Campaign, **changes) -> dict:
    data = {
        "sub_account": campaign.sub_account_id,
        "name": campaign.name,
        "template": campaign.template_id,
        "variables": json.dumps(campaign.variables),
        "audience_tags": "[]",
        "audience_phones": "[]",
        "fallback_enabled": "on",
        "fallback_text": campaign.fallback_text,
        "direct_sms_for_us_marketing": "on",
        "drip_weekdays": "[]",
        "drip_start_hour": "0",
        "drip_end_hour": "24",
    }
    return {**data, **changes}


def _change_url(campaign: Campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def test_admin_saves_valid_campaign(admin_client):
    campaign = CampaignFactory.create(sub_account=SubAccountFactory())
    response = admin_client.post(_change_url(campaign), _admin_data(campaign, name="Renamed"))

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.name == "Renamed"


def test_admin_rejects_bad_merge_field(admin_client):
    campaign = CampaignFactory.create()
    stored = campaign.fallback_text
    data = _admin_data(campaign, fallback_text="Hi {frist_name}")
    response = admin_client.post(_change_url(campaign), data)

    [error] = response.context["adminform"].form.errors["fallback_text"]
    assert "did you mean {first_name}?" in error
    campaign.refresh_from_db()
    assert campaign.fallback_text == stored


def test_admin_rejects_bad_variables(admin_client):
    campaign = CampaignFactory.create()
    data = _admin_data(campaign, variables='["contact.nope", 5]')
    response = admin_client.post(_change_url(campaign), data)

    errors = response.context["adminform"].form.errors["variables"]
    assert errors[0].startswith("variables[0] (for {{1}}) is 'contact.nope'")
    assert errors[1].startswith("variables[1] is 5, which is not a string")
    assert "has 1 variable but 2 values were given" in errors[2]
    campaign.refresh_from_db()
    assert campaign.variables == ["contact.first_name"]


def test_admin_rejects_tag_that_is_not_text(admin_client):
    campaign = CampaignFactory.create()
    response = admin_client.post(_change_url(campaign), _admin_data(campaign, audience_tags="[7]"))

    [error] = response.context["adminform"].form.errors["audience_tags"]
    assert error.startswith("audience_tags[0] is 7, which is not a string")
