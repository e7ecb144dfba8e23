"""Campaign, recipient and attempt changelists run the same queries for 2 rows as for 20."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import RecipientStatus
from messaging.models import Channel, DeliveryAttempt
from tests.admin_world import AgencyWorld, build_world
from tests.factories import CampaignFactory, RecipientFactory

pytestmark = pytest.mark.django_db


def add_campaigns(world: AgencyWorld, count: int) -> None:
    for _ in range(count):
        campaign = CampaignFactory.create(sub_account=world.sub_account, template=world.template)
        RecipientFactory.create(campaign=campaign, status=RecipientStatus.DELIVERED_SMS)


def add_recipients(world: AgencyWorld, count: int) -> None:
    for _ in range(count):
        RecipientFactory.create(campaign=world.campaign, reason="131049/30006")


def add_attempts(world: AgencyWorld, count: int) -> None:
    for _ in range(count):
        recipient = RecipientFactory.create(campaign=world.campaign)
        DeliveryAttempt.objects.create(
            recipient=recipient, channel=Channel.SMS, status="failed", error_code="30006"
        )


CHANGELISTS: dict[str, Callable[[AgencyWorld, int], None]] = {
    "campaigns_campaign": add_campaigns,
    "campaigns_recipient": add_recipients,
    "messaging_deliveryattempt": add_attempts,
}


@pytest.mark.parametrize("name", CHANGELISTS)
def test_changelist_queries_constant(name, django_assert_num_queries):
    home = build_world("Home")
    build_world("Yonder")
    client = Client()
    client.force_login(home.staff)
    url = reverse(f"admin:{name}_changelist")
    add_rows = CHANGELISTS[name]

    add_rows(home, 1)
    # The first request fills per-process caches (content types, permissions); measure after.
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 2

    add_rows(home, 18)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == 20


def test_campaign_columns(client):
    home = build_world("Home")
    RecipientFactory.create(campaign=home.campaign, status=RecipientStatus.PENDING)
    home.recipient.status = RecipientStatus.DELIVERED_SMS
    home.recipient.fallback_triggered = True
    home.recipient.save()
    client.force_login(home.staff)

    page = client.get(reverse("admin:campaigns_campaign_changelist")).content.decode()

    assert page.count("50.0 %") == 2


def test_attempt_error_in_words(client):
    home = build_world("Home")
    client.force_login(home.staff)

    page = client.get(reverse("admin:messaging_deliveryattempt_changelist")).content.decode()

    assert "number not reachable on WhatsApp" in page


@pytest.mark.parametrize(("status", "editable"), [("draft", True), ("completed", False)])
def test_launched_campaign_read_only(client, status, editable):
    home = build_world("Home")
    home.campaign.status = status
    home.campaign.save()
    client.force_login(home.staff)

    url = reverse("admin:campaigns_campaign_change", args=[home.campaign.pk])
    page = client.get(url).content.decode()

    assert ('name="fallback_text"' in page) is editable
    assert home.campaign.fallback_text[:20] in page


def test_decision_times_show_seconds(client):
    home = build_world("Home")
    decision = home.recipient.decisions.create(event="campaign launched", action="routed")
    client.force_login(home.staff)

    url = reverse("admin:campaigns_recipient_change", args=[home.recipient.pk])
    page = client.get(url).content.decode()

    assert f"{decision.at:%Y-%m-%d %H:%M:%S}" in page
