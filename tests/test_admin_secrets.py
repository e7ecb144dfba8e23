"""Sender tokens are write-only: never in admin HTML, logs, history or error reports."""

import logging
import sys

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.views.debug import ExceptionReporter

from campaigns.admin.accounts import SubAccountAdmin
from campaigns.launch import start_launch
from campaigns.models import CampaignStatus, SubAccount
from messaging.providers import ProviderUnreachable, twilio
from tests.admin_world import AgencyWorld, build_world
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory

WHATSAPP_TOKEN = "wa-secret-7d1f0c"
TWILIO_TOKEN = "tw-secret-93ab5e"
TYPED_TOKEN = "typed-secret-42c8"
SECRETS = (WHATSAPP_TOKEN, TWILIO_TOKEN, TYPED_TOKEN)
# A loopback port nothing listens on: connections are refused at once.
CLOSED_URL = "http://127.0.0.1:9"


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def home(db) -> AgencyWorld:
    world = build_world("Home")
    SubAccount.objects.filter(pk=world.sub_account.pk).update(
        whatsapp_access_token=WHATSAPP_TOKEN, twilio_auth_token=TWILIO_TOKEN
    )
    world.sub_account.refresh_from_db()
    return world


@pytest.fixture
def staff_client(home: AgencyWorld) -> Client:
    client = Client()
    client.force_login(home.staff)
    return client


def change_url(sub_account: SubAccount) -> str:
    return reverse("admin:campaigns_subaccount_change", args=[sub_account.pk])


def form_data(sub_account: SubAccount, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "agency": sub_account.agency_id,
        "name": sub_account.name,
        "timezone": sub_account.timezone,
        "whatsapp_phone_number_id": sub_account.whatsapp_phone_number_id,
        "whatsapp_business_account_id": sub_account.whatsapp_business_account_id,
        "whatsapp_display_number": sub_account.whatsapp_display_number,
        "whatsapp_access_token": "",
        "twilio_account_sid": sub_account.twilio_account_sid,
        "twilio_auth_token": "",
        "sms_from_number": sub_account.sms_from_number,
        "sms_countries": "[]",
    }
    data.update(changes)
    return data


def test_change_page_hides_tokens(staff_client, home):
    page = staff_client.get(change_url(home.sub_account)).content.decode()

    assert leaked(page) == []
    assert page.count("Currently set.") == 2


def test_changelist_hides_tokens(staff_client, home):
    page = staff_client.get(reverse("admin:campaigns_subaccount_changelist")).content.decode()

    assert leaked(page) == []
    assert '<td class="field-whatsapp_token_state">set</td>' in page


def test_view_only_page_hides_tokens(home):
    viewer = User.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_subaccount"))
    home.agency.staff.add(viewer)
    client = Client()
    client.force_login(viewer)

    page = client.get(change_url(home.sub_account)).content.decode()

    assert leaked(page) == []
    assert 'name="whatsapp_access_token"' not in page


def test_blank_input_keeps_tokens(staff_client, home):
    staff_client.post(change_url(home.sub_account), form_data(home.sub_account, name="Renamed"))

    home.sub_account.refresh_from_db()
    assert home.sub_account.name == "Renamed"
    assert home.sub_account.whatsapp_access_token == WHATSAPP_TOKEN
    assert home.sub_account.twilio_auth_token == TWILIO_TOKEN


def test_typed_token_replaces(staff_client, home):
    data = form_data(home.sub_account, twilio_auth_token=TYPED_TOKEN)
    staff_client.post(change_url(home.sub_account), data)

    home.sub_account.refresh_from_db()
    assert home.sub_account.twilio_auth_token == TYPED_TOKEN
    assert home.sub_account.whatsapp_access_token == WHATSAPP_TOKEN


def test_clear_box_removes_token(staff_client, home):
    data = form_data(home.sub_account, clear_whatsapp_access_token="on")
    staff_client.post(change_url(home.sub_account), data)

    home.sub_account.refresh_from_db()
    assert home.sub_account.whatsapp_access_token == ""
    assert home.sub_account.twilio_auth_token == TWILIO_TOKEN


def test_clear_and_type_rejected(staff_client, home):
    data = form_data(
        home.sub_account, clear_whatsapp_access_token="on", whatsapp_access_token=TYPED_TOKEN
    )
    response = staff_client.post(change_url(home.sub_account), data)

    assert "clear_whatsapp_access_token" in response.context["adminform"].form.errors
    home.sub_account.refresh_from_db()
    assert home.sub_account.whatsapp_access_token == WHATSAPP_TOKEN


def test_invalid_form_does_not_echo_token(staff_client, home):
    data = form_data(home.sub_account, name="", whatsapp_access_token=TYPED_TOKEN)
    response = staff_client.post(change_url(home.sub_account), data)

    assert response.context["adminform"].form.errors
    assert leaked(response.content.decode()) == []


def test_history_hides_token(staff_client, home):
    data = form_data(home.sub_account, whatsapp_access_token=TYPED_TOKEN)
    staff_client.post(change_url(home.sub_account), data)

    url = reverse("admin:campaigns_subaccount_history", args=[home.sub_account.pk])
    page = staff_client.get(url).content.decode()

    assert "WhatsApp access token" in page
    assert leaked(page) == []


def test_server_error_report_hides_tokens(home, monkeypatch, settings, caplog):
    settings.ADMINS = [("Ops", "ops@example.com")]

    def broken_save(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(SubAccountAdmin, "save_model", broken_save)
    client = Client(raise_request_exception=False)
    client.force_login(home.staff)
    data = form_data(home.sub_account, whatsapp_access_token=TYPED_TOKEN)

    with caplog.at_level(logging.DEBUG):
        response = client.post(change_url(home.sub_account), data)

    assert response.status_code == 500
    assert len(mail.outbox) == 1
    assert "database went away" in mail.outbox[0].body
    assert leaked(str(mail.outbox[0].body)) == []
    assert leaked(response.content.decode()) == []
    assert leaked(caplog.text) == []


def test_provider_error_report_hides_token(settings):
    settings.TWILIO_API_BASE_URL = CLOSED_URL
    try:
        twilio.fetch_account(account_sid="AC" + "0" * 32, auth_token=TWILIO_TOKEN)
    except ProviderUnreachable:
        report = ExceptionReporter(None, *sys.exc_info()).get_traceback_text()
    else:
        pytest.fail("fetch_account reached a closed port")

    assert "fetch_account" in report
    assert leaked(report) == []


def test_unreachable_providers_reported(staff_client, home, settings, caplog):
    settings.TWILIO_API_BASE_URL = CLOSED_URL
    settings.WHATSAPP_API_BASE_URL = CLOSED_URL
    data = {"action": "test_connection", "_selected_action": [home.sub_account.pk]}

    with caplog.at_level(logging.DEBUG):
        response = staff_client.post(
            reverse("admin:campaigns_subaccount_changelist"), data, follow=True
        )

    shown = [str(message) for message in response.context["messages"]]
    assert any("WhatsApp Cloud API did not respond" in text for text in shown)
    assert any("Twilio did not respond" in text for text in shown)
    assert leaked(response.content.decode()) == []
    assert leaked(caplog.text) == []


@pytest.mark.django_db(transaction=True)
def test_connection_and_send_log_no_token(sandbox, caplog):
    # Role groups are flushed between transactional tests, so a superuser drives the admin.
    sandbox.configure(unreachable_percent=0, webhook_delay_ms=20)
    sub_account = SubAccountFactory.create(
        whatsapp_access_token=WHATSAPP_TOKEN, twilio_auth_token=TWILIO_TOKEN
    )
    template = TemplateFactory.create(sub_account=sub_account)
    ContactFactory.create(sub_account=sub_account, phone="+447400123456")
    ContactFactory.create(sub_account=sub_account, phone="+12025550123")
    campaign = CampaignFactory.create(sub_account=sub_account, template=template)
    client = Client()
    client.force_login(User.objects.create_superuser("root", password=None))
    data = {"action": "test_connection", "_selected_action": [sub_account.pk]}

    with caplog.at_level(logging.DEBUG):
        response = client.post(reverse("admin:campaigns_subaccount_changelist"), data, follow=True)
        start_launch(campaign)
        finished = wait_until(lambda: _finished(campaign.pk))

    shown = [str(message) for message in response.context["messages"]]
    assert any("WhatsApp connected" in text for text in shown)
    assert any("Twilio connected, account status active" in text for text in shown)
    assert finished
    assert any(record.name.startswith("messaging") for record in caplog.records)
    assert leaked(caplog.text) == []


def _finished(campaign_id: int) -> bool:
    from campaigns.models import Campaign

    return Campaign.objects.get(pk=campaign_id).status == CampaignStatus.COMPLETED
