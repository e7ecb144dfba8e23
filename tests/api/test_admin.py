"""API keys in admin: shown once on creation, stored hashed, revocable."""

import re

import pytest

from campaigns.models import ApiKey
from campaigns.models.api_keys import digest

pytestmark = pytest.mark.django_db


def add_key(admin_client, sub_account):
    return admin_client.post(
        "/admin/campaigns/apikey/add/",
        {"sub_account": sub_account.pk, "name": "CRM"},
        follow=True,
    )


def test_new_key_is_shown_once(admin_client, sub_account):
    page = add_key(admin_client, sub_account).content.decode()
    shown = re.findall(r"sbk_[A-Za-z0-9_-]{40,}", page)
    assert [digest(plain) for plain in shown] == [ApiKey.objects.get().key_digest]


def test_key_is_not_shown_again(admin_client, sub_account):
    add_key(admin_client, sub_account)
    page = admin_client.get(f"/admin/campaigns/apikey/{ApiKey.objects.get().pk}/change/")
    assert "copy it now" not in page.content.decode()


def test_revoke_action(admin_client, sub_account):
    key, _ = ApiKey.issue(sub_account, "CRM")
    admin_client.post(
        "/admin/campaigns/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_delivery_log_page_opens(admin_client):
    assert admin_client.get("/admin/messaging/webhookdelivery/").status_code == 200
