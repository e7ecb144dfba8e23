"""Idempotency-Key: replay of the first response, 409 for another body."""

import pytest

from campaigns.models import Contact

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
BODY = {"phone": "+447400123456", "first_name": "Ana"}


def post(api, body, key="order-1"):
    return api.post(CONTACTS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_replay_returns_first_body(api):
    first = post(api, BODY)
    again = post(api, BODY)
    assert again.json() == first.json()


def test_replay_returns_first_status(api):
    post(api, BODY)
    assert post(api, BODY).status_code == 201


def test_replay_creates_once(api, sub_account):
    post(api, BODY)
    post(api, BODY)
    assert Contact.objects.filter(sub_account=sub_account).count() == 1


def test_replay_is_marked(api):
    post(api, BODY)
    assert post(api, BODY).headers["Idempotent-Replayed"] == "true"


def test_other_body_is_409(api):
    post(api, BODY)
    response = post(api, {**BODY, "first_name": "Bo"})
    assert response.status_code == 409


def test_key_order_does_not_matter(api):
    post(api, BODY)
    reordered = dict(reversed(list(BODY.items())))
    assert post(api, reordered).status_code == 201


def test_keys_are_per_api_key(api, sub_account):
    from rest_framework.test import APIClient

    from campaigns.models import ApiKey

    post(api, BODY)
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {ApiKey.issue(sub_account, 'b')[1]}")
    response = other.post(
        CONTACTS, {"phone": "+447400123457"}, format="json", HTTP_IDEMPOTENCY_KEY="order-1"
    )
    assert response.status_code == 201


def test_failed_request_frees_the_key(api):
    post(api, {"phone": "nope"})
    assert post(api, BODY).status_code == 201
