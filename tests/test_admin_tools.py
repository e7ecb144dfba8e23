"""Admin tools: phone search, template sync, connection test, event replay, reasons in words."""

from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.admin.phone_search import phone_filter
from campaigns.models import Template
from messaging.models import Provider, ProviderEvent
from messaging.providers import ProviderError, twilio
from messaging.sandbox.testing import SandboxProcess
from tests.admin_world import AgencyWorld, build_world
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider() -> Iterator[SandboxProcess]:
    # Only provider reads happen here, so no webhook ever goes to this address.
    with SandboxProcess(meta_webhook_url="http://127.0.0.1:9/", meta_app_secret="unused") as box:
        yield box


@pytest.fixture
def sandbox_urls(provider: SandboxProcess, settings) -> SandboxProcess:
    provider.reset()
    settings.WHATSAPP_API_BASE_URL = f"{provider.url}/v21.0"
    settings.TWILIO_API_BASE_URL = provider.url
    return provider


@pytest.fixture
def home() -> AgencyWorld:
    return build_world("Home")


@pytest.fixture
def staff_client(home: AgencyWorld) -> Client:
    client = Client()
    client.force_login(home.staff)
    return client


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    "term",
    ["+44 7700 900123", "0044 7700-900123", "447700900123", "+44 (0)7700 900123"],
)
def test_phone_filter_formats(term):
    assert phone_filter(term) is not None
    assert str(phone_filter(term)) == "(AND: ('phone', '+447700900123'))"


@pytest.mark.parametrize("term", ["Smith", "12345", "john 447700900123", ""])
def test_phone_filter_ignores_non_numbers(term):
    assert phone_filter(term) is None


def test_phone_filter_national_number():
    assert str(phone_filter("07700 900123")) == "(AND: ('phone__endswith', '7700900123'))"


@pytest.mark.parametrize("term", ["+44 7700 900123", "07700-900-123", "447700900123"])
def test_contact_search_by_phone(staff_client, home, term):
    wanted = ContactFactory.create(sub_account=home.sub_account, phone="+447700900123")
    ContactFactory.create(sub_account=home.sub_account, phone="+447700900124")

    response = staff_client.get(reverse("admin:campaigns_contact_changelist"), {"q": term})

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


def test_attempt_search_by_phone(staff_client, home):
    response = staff_client.get(
        reverse("admin:messaging_deliveryattempt_changelist"), {"q": home.recipient.phone[1:]}
    )

    assert [row.pk for row in response.context["cl"].result_list] == [home.attempt.pk]


def test_recipient_reason_in_words(staff_client, home):
    url = reverse("admin:campaigns_recipient_changelist")
    page = staff_client.get(url).content.decode()

    assert "131026: number not reachable on WhatsApp" in page


def test_sync_templates_action(staff_client, home, sandbox_urls):
    sandbox_urls.add_template("autumn_sale", "Hi {{1}}, autumn sale today.", category="MARKETING")
    data = {"action": "sync_templates", "_selected_action": [home.sub_account.pk]}

    response = staff_client.post(
        reverse("admin:campaigns_subaccount_changelist"), data, follow=True
    )

    assert any("templates synced from WhatsApp" in text for text in messages_of(response))
    synced = Template.objects.get(sub_account=home.sub_account, name="autumn_sale")
    assert synced.body == "Hi {{1}}, autumn sale today."


def test_template_sync_from_template_list(staff_client, home, sandbox_urls):
    sandbox_urls.add_template("winter_sale", "Winter sale today.", category="MARKETING")
    data = {"action": "sync_from_provider", "_selected_action": [home.template.pk]}

    staff_client.post(reverse("admin:campaigns_template_changelist"), data)

    assert Template.objects.filter(sub_account=home.sub_account, name="winter_sale").exists()


def test_connection_action_succeeds(staff_client, home, sandbox_urls):
    data = {"action": "test_connection", "_selected_action": [home.sub_account.pk]}

    response = staff_client.post(
        reverse("admin:campaigns_subaccount_changelist"), data, follow=True
    )

    shown = messages_of(response)
    assert any("WhatsApp connected" in text for text in shown)
    assert any("Twilio connected, account status active" in text for text in shown)


def test_connection_action_unconfigured(staff_client, home, sandbox_urls):
    home.sub_account.twilio_auth_token = ""
    home.sub_account.save()
    data = {"action": "test_connection", "_selected_action": [home.sub_account.pk]}

    response = staff_client.post(
        reverse("admin:campaigns_subaccount_changelist"), data, follow=True
    )

    assert any("Twilio not configured" in text for text in messages_of(response))


def test_sandbox_account_fetch_needs_token(sandbox_urls):
    with pytest.raises(ProviderError) as error:
        twilio.fetch_account(account_sid="AC" + "1" * 32, auth_token="")

    assert error.value.code == "20003"


def test_replay_reprocesses_event(staff_client, home):
    event = ProviderEvent.objects.create(
        provider=Provider.TWILIO,
        attempt=home.attempt,
        body="MessageSid=SM1&MessageStatus=bogus",
    )
    data = {"action": "replay", "_selected_action": [event.pk]}

    response = staff_client.post(
        reverse("admin:messaging_providerevent_changelist"), data, follow=True
    )

    event.refresh_from_db()
    assert event.processed_at is not None
    assert "SMS status 'bogus' not acted on" in event.error
    assert any("1 events replayed; 1 left problems" in text for text in messages_of(response))


def test_agency_list_links_roll_up(client):
    home = build_world("Home")
    client.force_login(home.staff)

    page = client.get(reverse("admin:campaigns_agency_changelist")).content.decode()

    assert reverse("reports:report", args=["agency", home.agency.pk]) in page
