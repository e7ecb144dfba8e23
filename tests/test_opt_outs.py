"""Opt-outs and opt-ins from replies, per sub-account, and consent checked at send time."""

from typing import cast

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.launch import launch_campaign, start_launch
from campaigns.models import Campaign, CampaignStatus, Contact, Recipient, SubAccount
from messaging.optouts import sms_keyword_action
from tests.conftest import wait_until
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory
from tests.webhook_payloads import twilio_signature

GB_MOBILE = "+447400123456"


@pytest.mark.parametrize(
    "body", ["STOP", "stopall", " Unsubscribe ", "CANCEL", "end", "QUIT", "REVOKE", "optout"]
)
def test_sms_stop_keywords(body):
    assert sms_keyword_action(body) == "stop"


@pytest.mark.parametrize("body", ["START", "unstop", "Yes"])
def test_sms_start_keywords(body):
    assert sms_keyword_action(body) == "start"


def test_sms_opt_out_type_wins():
    assert sms_keyword_action("please no more", "STOP") == "stop"


def test_sms_sentence_is_no_keyword():
    assert sms_keyword_action("stop sending me this") == ""


def reloaded(contact):
    contact.refresh_from_db()
    return contact


@pytest.mark.django_db(transaction=True)
class TestThroughSandbox:
    @pytest.fixture
    def contact(self, sandbox):
        sandbox.configure(webhook_delay_ms=10)
        return ContactFactory(phone=GB_MOBILE)

    def send_sms(self, sandbox, contact, body: str) -> None:
        sub_account = contact.sub_account
        sandbox._call(
            "POST",
            "/_sandbox/inbound/sms",
            json={
                "from": contact.phone,
                "to": sub_account.sms_from_number,
                "body": body,
                "account_sid": sub_account.twilio_account_sid,
                "auth_token": sub_account.twilio_auth_token,
            },
        )

    def test_sms_stop_then_start(self, sandbox, contact):
        self.send_sms(sandbox, contact, "Stop")
        assert wait_until(lambda: reloaded(contact).sms_opt_out_at is not None, 10)
        assert contact.sms_opt_out_source == "sms reply STOP"
        assert contact.whatsapp_opt_out_at is None

        self.send_sms(sandbox, contact, "START")
        assert wait_until(lambda: reloaded(contact).sms_opt_out_at is None, 10)

    def test_sms_stop_stays_in_sub_account(self, sandbox, contact):
        other = ContactFactory(
            phone=GB_MOBILE,
            sub_account=SubAccountFactory(twilio_account_sid="AC" + "f" * 32),
        )
        self.send_sms(sandbox, contact, "STOP")
        assert wait_until(lambda: reloaded(contact).sms_opt_out_at is not None, 10)

        assert reloaded(other).sms_opt_out_at is None

    def test_whatsapp_stop_reply(self, sandbox, contact):
        sandbox._call(
            "POST",
            "/_sandbox/inbound/whatsapp",
            json={
                "phone_number_id": contact.sub_account.whatsapp_phone_number_id,
                "from": contact.phone,
                "text": "stop",
            },
        )
        assert wait_until(lambda: reloaded(contact).whatsapp_opt_out_at is not None, 10)
        assert contact.sms_opt_out_at is None

    def test_marketing_preference_stop_resume(self, sandbox, contact):
        def preference(value: str) -> None:
            sandbox._call(
                "POST",
                "/_sandbox/user-preferences",
                json={
                    "phone_number_id": contact.sub_account.whatsapp_phone_number_id,
                    "from": contact.phone,
                    "value": value,
                },
            )

        preference("stop")
        assert wait_until(lambda: reloaded(contact).whatsapp_opt_out_at is not None, 10)
        preference("resume")
        assert wait_until(lambda: reloaded(contact).whatsapp_opt_out_at is None, 10)


@pytest.mark.django_db
def test_inbound_sms_unknown_number_rejected(client):
    SubAccountFactory()
    params = {"AccountSid": "AC" + "9" * 32, "From": GB_MOBILE, "To": "+15550109999"}
    url = "http://testserver" + reverse("webhooks:twilio-inbound")
    response = client.post(
        url, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(url, params, "any-token")
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_inbound_sms_bad_signature_rejected(client):
    sub_account = SubAccount.objects.get(pk=SubAccountFactory().pk)
    params = {
        "AccountSid": sub_account.twilio_account_sid,
        "From": GB_MOBILE,
        "To": sub_account.sms_from_number,
        "Body": "STOP",
    }
    url = "http://testserver" + reverse("webhooks:twilio-inbound")
    response = client.post(
        url, params, HTTP_X_TWILIO_SIGNATURE=twilio_signature(url, params, "wrong-token")
    )
    assert response.status_code == 403


@pytest.mark.django_db(transaction=True)
def test_opt_out_after_launch_skips_send(sandbox):
    sandbox.configure(unreachable_percent=0, webhook_delay_ms=10)
    contact = ContactFactory(phone=GB_MOBILE)
    campaign = cast(Campaign, CampaignFactory(sub_account=contact.sub_account))
    start_launch(campaign)
    launch_campaign(campaign.pk)
    Contact.objects.filter(pk=contact.pk).update(
        whatsapp_opt_out_at=timezone.now(), sms_opt_out_at=timezone.now()
    )

    def finished() -> bool:
        return Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.COMPLETED

    assert wait_until(finished)
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.status, recipient.reason) == ("skipped", "no_consent")
    assert sandbox.messages() == []


@pytest.mark.django_db(transaction=True)
def test_whatsapp_opt_out_after_launch_sends_sms(sandbox):
    sandbox.configure(unreachable_percent=0, webhook_delay_ms=10)
    contact = ContactFactory(phone=GB_MOBILE)
    campaign = cast(Campaign, CampaignFactory(sub_account=contact.sub_account))
    start_launch(campaign)
    launch_campaign(campaign.pk)
    Contact.objects.filter(pk=contact.pk).update(whatsapp_opt_out_at=timezone.now())

    def finished() -> bool:
        return Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.COMPLETED

    assert wait_until(finished)
    recipient = Recipient.objects.get(campaign=campaign)
    assert (recipient.route, recipient.status) == ("direct_sms", "delivered_sms")
    assert sandbox.messages("whatsapp") == []
