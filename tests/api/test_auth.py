"""API keys: bearer authentication, revocation, last use, throttling, the error shape."""

import hashlib

import pytest
from rest_framework.test import APIClient

from campaigns.models import ApiKey

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"


def test_missing_key_is_401():
    response = APIClient().get(CONTACTS)
    assert response.status_code == 401


def test_unknown_key_is_401(sub_account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer sbk_not-a-key")
    assert client.get(CONTACTS).status_code == 401


def test_revoked_key_is_401(api, api_key):
    api_key[0].revoke()
    response = api.get(CONTACTS)
    assert response.status_code == 401


def test_revoked_key_error_says_why(api, api_key):
    api_key[0].revoke()
    assert "revoked" in api.get(CONTACTS).json()["error"]["message"]


def test_key_is_stored_as_sha256(api_key):
    key, plain = api_key
    assert key.key_digest == hashlib.sha256(plain.encode()).hexdigest()


def test_plain_key_is_not_stored(api_key):
    key, plain = api_key
    assert not ApiKey.objects.filter(key_digest=plain).exists()


def test_prefix_is_visible(api_key):
    key, plain = api_key
    assert plain.startswith(key.prefix)


def test_last_use_is_recorded(api, api_key):
    api.get(CONTACTS)
    api_key[0].refresh_from_db()
    assert api_key[0].last_used_at is not None


def test_throttle_per_key(api, settings):
    settings.API_THROTTLE_RATE = "2/minute"
    statuses = [api.get(CONTACTS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_error_shape_names_fields(api):
    response = api.post(CONTACTS, {"phone": "12"}, format="json")
    assert set(response.json()["error"]["fields"]) == {"phone"}


def test_error_shape_has_code(api):
    response = api.post(CONTACTS, {"phone": "12"}, format="json")
    assert response.json()["error"]["code"] == "invalid"


def test_unexpected_error_keeps_shape(api, monkeypatch):
    from campaigns.api.contacts import ContactViewSet

    def broken(self):
        raise RuntimeError("boom")

    monkeypatch.setattr(ContactViewSet, "get_queryset", broken)
    response = api.get(CONTACTS)
    assert response.json()["error"]["code"] == "server_error"
