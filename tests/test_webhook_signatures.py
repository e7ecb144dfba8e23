"""Inbound webhooks: only correctly signed requests are stored or acted on."""

import pytest
from django.urls import reverse

from messaging.models import AttemptStatus, DeliveryAttempt, ProviderEvent
from tests.factories import RecipientFactory
from tests.webhook_payloads import (
    encode,
    meta_signature,
    twilio_form,
    twilio_signature,
    whatsapp_status,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp_attempt():
    recipient = RecipientFactory(status="whatsapp_sent")
    return DeliveryAttempt.objects.create(
        recipient=recipient,
        channel="whatsapp",
        status=AttemptStatus.ACCEPTED,
        provider_message_id="wamid.A1",
        tries=1,
    )


def post_whatsapp(client, body: bytes, signature: str | None):
    headers = {"HTTP_X_HUB_SIGNATURE_256": signature} if signature is not None else {}
    return client.post(
        reverse("webhooks:whatsapp"), body, content_type="application/json", **headers
    )


def test_whatsapp_missing_signature_rejected(client, whatsapp_attempt):
    body = encode(whatsapp_status("wamid.A1", "delivered"))
    response = post_whatsapp(client, body, None)
    assert response.status_code == 403
    assert b"missing X-Hub-Signature-256 header" in response.content
    assert response["Content-Type"].startswith("text/plain")
    assert ProviderEvent.objects.count() == 0
    whatsapp_attempt.refresh_from_db()
    assert whatsapp_attempt.status == AttemptStatus.ACCEPTED


def test_whatsapp_wrong_signature_rejected(client, whatsapp_attempt):
    body = encode(whatsapp_status("wamid.A1", "delivered"))
    response = post_whatsapp(client, body, meta_signature(body, "not-the-app-secret"))
    assert response.status_code == 403
    assert b"does not match the body" in response.content
    assert ProviderEvent.objects.count() == 0


def test_whatsapp_signature_over_other_body_rejected(client, settings, whatsapp_attempt):
    signed = encode(whatsapp_status("wamid.A1", "sent"))
    sent = encode(whatsapp_status("wamid.A1", "delivered"))
    response = post_whatsapp(client, sent, meta_signature(signed, settings.META_APP_SECRET))
    assert response.status_code == 403
    assert ProviderEvent.objects.count() == 0


def test_whatsapp_signed_event_stored(client, settings, whatsapp_attempt):
    body = encode(whatsapp_status("wamid.A1", "delivered"))
    response = post_whatsapp(client, body, meta_signature(body, settings.META_APP_SECRET))
    assert response.status_code == 200
    assert ProviderEvent.objects.get().body == body.decode()


def test_whatsapp_verification_handshake(client, settings):
    url = reverse("webhooks:whatsapp")
    ok = client.get(
        url,
        {
            "hub.mode": "subscribe",
            "hub.verify_token": settings.META_VERIFY_TOKEN,
            "hub.challenge": "1158201444",
        },
    )
    wrong = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
    )
    assert ok.status_code == 200
    assert ok.content == b"1158201444"
    assert wrong.status_code == 403


def test_twilio_bad_signature_rejected(client):
    recipient = RecipientFactory(status="sms_sent")
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient, channel="sms", status=AttemptStatus.ACCEPTED, tries=1
    )
    url = reverse("webhooks:twilio-status", args=[attempt.pk])
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    signature = twilio_signature(f"http://testserver{url}", params, "wrong-token")
    response = client.post(
        url,
        twilio_form(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 403
    assert b"X-Twilio-Signature does not match" in response.content
    assert ProviderEvent.objects.count() == 0


def test_twilio_signed_callback_stored(client):
    recipient = RecipientFactory(status="sms_sent")
    attempt = DeliveryAttempt.objects.create(
        recipient=recipient, channel="sms", status=AttemptStatus.ACCEPTED, tries=1
    )
    url = reverse("webhooks:twilio-status", args=[attempt.pk])
    params = {"MessageSid": "SM1", "MessageStatus": "delivered", "AccountSid": "AC1"}
    token = recipient.campaign.sub_account.twilio_auth_token
    signature = twilio_signature(f"http://testserver{url}", params, token)
    response = client.post(
        url,
        twilio_form(params),
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE=signature,
    )
    assert response.status_code == 200
    assert ProviderEvent.objects.get().attempt == attempt


def test_twilio_unknown_attempt_rejected(client):
    url = reverse("webhooks:twilio-status", args=[999999])
    response = client.post(
        url,
        "MessageStatus=delivered",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_TWILIO_SIGNATURE="c2lnbmF0dXJl",
    )
    unsigned = client.post(
        url, "MessageStatus=delivered", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 403
    assert response.content == b"no SMS delivery attempt 999999"
    # Without a signature the response does not reveal whether the attempt exists.
    assert b"missing X-Twilio-Signature header" in unsigned.content
