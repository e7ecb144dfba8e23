"""Outbound webhook URLs: public addresses only, loopback only when allowed."""

import socket

import pytest

from campaigns.api.admin import WebhookEndpointForm
from messaging import outbound, webhook_targets
from messaging.models import WebhookDelivery, WebhookEndpoint

ENDPOINTS = "/api/v1/webhook-endpoints/"

REJECTED = [
    "http://10.1.2.3/hooks",
    "http://172.16.0.1/hooks",
    "http://192.168.1.20/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hooks",
    "http://0.0.0.0/hooks",
    "http://[fd00::1]/hooks",
    "http://[fe80::1]/hooks",
    "http://[::ffff:10.0.0.1]/hooks",
    "http://printer.local/hooks",
    "http://metadata.google.internal/hooks",
    "http://intranet/hooks",
]
LOOPBACK = ["http://127.0.0.1:9000/hooks", "http://[::1]/hooks", "http://localhost/hooks"]


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.OUTBOUND_WEBHOOK_ALLOW_LOOPBACK = False


@pytest.mark.parametrize("url", REJECTED)
def test_private_url_rejected(url, settings):
    settings.DEBUG = True
    with pytest.raises(webhook_targets.UnsafeTarget):
        webhook_targets.check_url(url)


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_rejected_in_production(url, production):
    with pytest.raises(webhook_targets.UnsafeTarget):
        webhook_targets.check_url(url)


@pytest.mark.parametrize("url", LOOPBACK)
def test_loopback_allowed_by_setting(url, production, settings):
    settings.OUTBOUND_WEBHOOK_ALLOW_LOOPBACK = True
    webhook_targets.check_url(url)


def test_loopback_allowed_in_debug(production, settings):
    settings.DEBUG = True
    webhook_targets.check_url("http://127.0.0.1:9000/hooks")


def test_public_name_accepted(production):
    webhook_targets.check_url("https://hooks.example.com/in")


def test_name_resolving_private_rejected(production, monkeypatch):
    # DNS is the outermost boundary here: the name resolves to a private address.
    def resolve(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    with pytest.raises(webhook_targets.UnsafeTarget):
        webhook_targets.check_resolved("https://hooks.example.com/in")


def test_public_address_accepted(production):
    webhook_targets.check_url("https://8.8.8.8/hooks")


@pytest.mark.django_db
def test_api_rejects_private_url(api):
    response = api.post(ENDPOINTS, {"url": "http://169.254.169.254/"}, format="json")
    assert list(response.json()["error"]["fields"]) == ["url"]


@pytest.mark.django_db
def test_api_rejects_loopback_in_production(api, production):
    response = api.post(ENDPOINTS, {"url": "http://127.0.0.1:9/"}, format="json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_api_stores_nothing_when_rejected(api):
    api.post(ENDPOINTS, {"url": "http://10.0.0.5/"}, format="json")
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.django_db
def test_send_to_private_fails_at_once(sub_account, production):
    endpoint = WebhookEndpoint.objects.create(sub_account=sub_account, url="http://10.0.0.5/")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="recipient.final", payload={}
    )
    outbound.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.response_status) == ("failed", None)


@pytest.mark.django_db
def test_send_to_private_records_reason(sub_account, production):
    endpoint = WebhookEndpoint.objects.create(sub_account=sub_account, url="http://localhost:1/")
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event="recipient.final", payload={}
    )
    outbound.deliver(delivery.pk)
    delivery.refresh_from_db()
    assert "loopback" in delivery.last_error


@pytest.mark.django_db
def test_admin_form_rejects_private_url(sub_account):
    data = {"sub_account": sub_account.pk, "url": "http://192.168.0.9/", "events": "[]"}
    form = WebhookEndpointForm(data=data)
    assert list(form.errors) == ["url"]
