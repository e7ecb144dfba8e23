"""Campaign schedule and drip fields: create, update of drafts, checks, time zones."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from campaigns.models import Campaign, CampaignStatus
from tests.factories import CampaignFactory, TemplateFactory

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"
NOW = datetime(2026, 6, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def body(sub_account) -> dict:
    template = TemplateFactory(sub_account=sub_account)
    return {
        "name": "Spring",
        "template": template.pk,
        "variables": ["contact.first_name"],
        "fallback_text": "Hi {first_name}, spring sale. Reply STOP to opt out.",
    }


def error_fields(response) -> list[str]:
    return list(response.json()["error"]["fields"])


def test_create_stores_drip(api, body):
    drip = {"drip_size": 500, "drip_every_minutes": 30, "drip_weekdays": [0, 2]}
    created = api.post(CAMPAIGNS, {**body, **drip}, format="json").json()
    stored = Campaign.objects.get(pk=created["id"])
    assert (stored.drip_size, stored.drip_every_minutes, stored.drip_weekdays) == (500, 30, [0, 2])


def test_create_stores_send_at(api, body):
    created = api.post(CAMPAIGNS, {**body, "send_at": "2026-06-03T08:00:00Z"}, format="json")
    stored = Campaign.objects.get(pk=created.json()["id"])
    assert stored.send_at == datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


def test_send_at_without_offset_is_local(api, body, sub_account):
    sub_account.timezone = "Europe/Berlin"
    sub_account.save()
    created = api.post(CAMPAIGNS, {**body, "send_at": "2026-06-03T10:00:00"}, format="json")
    stored = Campaign.objects.get(pk=created.json()["id"])
    assert stored.send_at == datetime(2026, 6, 3, 8, 0, tzinfo=UTC)


def test_send_at_shown_in_local_zone(api, body, sub_account):
    sub_account.timezone = "Europe/Berlin"
    sub_account.save()
    created = api.post(CAMPAIGNS, {**body, "send_at": "2026-06-03T08:00:00Z"}, format="json")
    assert created.json()["send_at"] == "2026-06-03T10:00:00+02:00"


def test_send_at_in_past_is_400(api, body):
    response = api.post(CAMPAIGNS, {**body, "send_at": "2026-06-01T08:00:00Z"}, format="json")
    assert error_fields(response) == ["send_at"]


def test_send_at_years_ahead_is_400(api, body):
    response = api.post(CAMPAIGNS, {**body, "send_at": "9999-12-31T23:00:00Z"}, format="json")
    assert error_fields(response) == ["send_at"]


def test_drip_size_needs_interval(api, body):
    response = api.post(CAMPAIGNS, {**body, "drip_size": 100}, format="json")
    assert error_fields(response) == ["drip_every_minutes"]


def test_drip_interval_needs_size(api, body):
    response = api.post(CAMPAIGNS, {**body, "drip_every_minutes": 10}, format="json")
    assert error_fields(response) == ["drip_size"]


def test_drip_window_needs_size(api, body):
    response = api.post(CAMPAIGNS, {**body, "drip_start_hour": 9}, format="json")
    assert error_fields(response) == ["drip_start_hour"]


def test_drip_hours_must_be_ordered(api, body):
    drip = {"drip_size": 1, "drip_every_minutes": 1, "drip_start_hour": 17, "drip_end_hour": 9}
    response = api.post(CAMPAIGNS, {**body, **drip}, format="json")
    assert error_fields(response) == ["drip_end_hour"]


def test_drip_weekday_out_of_range(api, body):
    drip = {"drip_size": 1, "drip_every_minutes": 1, "drip_weekdays": [7]}
    response = api.post(CAMPAIGNS, {**body, **drip}, format="json")
    assert error_fields(response) == ["drip_weekdays.0"]


def test_drip_weekday_twice(api, body):
    drip = {"drip_size": 1, "drip_every_minutes": 1, "drip_weekdays": [1, 1]}
    response = api.post(CAMPAIGNS, {**body, **drip}, format="json")
    assert error_fields(response) == ["drip_weekdays"]


def test_error_has_one_shape(api, body):
    error = api.post(CAMPAIGNS, {**body, "drip_size": 0}, format="json").json()["error"]
    assert (error["code"], list(error)) == ("invalid", ["code", "message", "fields"])


def test_patch_sets_schedule(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account)
    later = (NOW + timedelta(days=1)).isoformat()
    api.patch(f"{CAMPAIGNS}{campaign.pk}/", {"send_at": later}, format="json")
    campaign.refresh_from_db()
    assert campaign.send_at == NOW + timedelta(days=1)


def test_patch_checks_stored_drip(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, drip_size=10, drip_every_minutes=5)
    response = api.patch(f"{CAMPAIGNS}{campaign.pk}/", {"drip_every_minutes": None}, format="json")
    assert error_fields(response) == ["drip_every_minutes"]


def test_patch_keeps_other_fields(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, name="Before")
    api.patch(
        f"{CAMPAIGNS}{campaign.pk}/", {"drip_size": 5, "drip_every_minutes": 1}, format="json"
    )
    campaign.refresh_from_db()
    assert campaign.name == "Before"


def test_patch_of_launched_is_409(api, sub_account):
    campaign = CampaignFactory(sub_account=sub_account, status=CampaignStatus.RUNNING)
    response = api.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "After"}, format="json")
    assert response.status_code == 409


def test_patch_of_other_sub_account_is_404(api, other_sub_account):
    campaign = CampaignFactory(sub_account=other_sub_account)
    response = api.patch(f"{CAMPAIGNS}{campaign.pk}/", {"name": "After"}, format="json")
    assert response.status_code == 404
