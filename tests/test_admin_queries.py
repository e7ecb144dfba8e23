"""Admin changelists: the same queries for 2 rows as for 20, and their columns and searches."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from campaigns.models import RecipientStatus
from messaging.events import process_pending_events
from messaging.models import Channel, DeliveryAttempt, Provider, ProviderEvent
from tests.admin_world import AgencyWorld, build_world
from tests.factories import CampaignFactory, RecipientFactory
from tests.webhook_payloads import encode, whatsapp_status

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


def meta_status_event(attempt: DeliveryAttempt, status: str = "delivered") -> ProviderEvent:
    """Store a Meta status webhook for the attempt, as the WhatsApp webhook view does."""
    body = encode(whatsapp_status(attempt.provider_message_id, status, attempt_id=attempt.pk))
    return ProviderEvent.objects.create(provider=Provider.META, body=body.decode())


def add_events(world: AgencyWorld, count: int) -> None:
    for _ in range(count):
        recipient = RecipientFactory.create(campaign=world.campaign)
        attempt = DeliveryAttempt.objects.create(
            recipient=recipient, channel=Channel.WHATSAPP, provider_message_id=recipient.phone
        )
        meta_status_event(attempt)
    process_pending_events()


CHANGELISTS: dict[str, Callable[[AgencyWorld, int], None]] = {
    "campaigns_campaign": add_campaigns,
    "campaigns_recipient": add_recipients,
    "messaging_deliveryattempt": add_attempts,
    "messaging_providerevent": add_events,
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


def test_meta_event_shows_attempt(client):
    home = build_world("Home")
    event = meta_status_event(home.attempt)
    process_pending_events()
    client.force_login(home.staff)

    listed = client.get(reverse("admin:messaging_providerevent_changelist")).content.decode()
    url = reverse("admin:messaging_providerevent_change", args=[event.pk])
    detail = client.get(url).content.decode()

    home.attempt.refresh_from_db()
    assert str(home.attempt) in listed
    attempt_url = reverse("admin:messaging_deliveryattempt_change", args=[home.attempt.pk])
    assert f'href="{attempt_url}"' in detail


@pytest.mark.parametrize("by", ["wamid", "attempt id", "phone"])
def test_event_search(client, by):
    home = build_world("Home")
    expected = meta_status_event(home.attempt)
    recipient = RecipientFactory.create(campaign=home.campaign)
    other = DeliveryAttempt.objects.create(
        recipient=recipient, channel=Channel.WHATSAPP, provider_message_id="wamid.Other"
    )
    meta_status_event(other)
    process_pending_events()
    client.force_login(home.staff)
    term = {
        "wamid": home.attempt.provider_message_id,
        "attempt id": str(home.attempt.pk),
        # National format: the search matches it against the stored E.164 number.
        "phone": "0" + home.recipient.phone.removeprefix("+44"),
    }[by]

    url = reverse("admin:messaging_providerevent_changelist")
    response = client.get(url, {"q": term})

    # The world's Twilio event belongs to the same attempt.
    found = {event.pk for event in response.context["cl"].result_list}
    assert found == {expected.pk, home.event.pk}


def test_event_kind_filter(client):
    home = build_world("Home")
    meta_status_event(home.attempt)
    process_pending_events()
    client.force_login(home.staff)
    url = reverse("admin:messaging_providerevent_changelist")

    whatsapp = client.get(url, {"kind": "messages"}).context["cl"].result_list
    sms = client.get(url, {"kind": "sms_status"}).context["cl"].result_list

    assert [event.provider for event in whatsapp] == [Provider.META]
    assert [event.pk for event in sms] == [home.event.pk]
