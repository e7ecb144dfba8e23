"""Contacts: scoping, create, update, bulk upsert, opt-outs, CSV import jobs."""

import pytest

from campaigns.models import Contact
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
GB = "+447400123456"


def test_list_shows_own_contacts(api, sub_account, other_sub_account):
    ContactFactory(sub_account=sub_account, phone=GB)
    ContactFactory(sub_account=other_sub_account, phone="+447400123457")
    phones = [c["phone"] for c in api.get(CONTACTS).json()["results"]]
    assert phones == [GB]


def test_other_sub_account_contact_is_404(api, other_sub_account):
    contact = ContactFactory(sub_account=other_sub_account)
    assert api.get(f"{CONTACTS}{contact.pk}/").status_code == 404


def test_other_sub_account_contact_update_is_404(api, other_sub_account):
    contact = ContactFactory(sub_account=other_sub_account)
    response = api.patch(f"{CONTACTS}{contact.pk}/", {"first_name": "X"}, format="json")
    assert response.status_code == 404


def test_create_normalizes_phone(api, sub_account):
    api.post(CONTACTS, {"phone": "07400 123456", "country": "GB"}, format="json")
    assert Contact.objects.get(sub_account=sub_account).phone == GB


def test_create_duplicate_phone_is_400(api, sub_account):
    ContactFactory(sub_account=sub_account, phone=GB)
    response = api.post(CONTACTS, {"phone": GB}, format="json")
    assert response.status_code == 400


def test_update_changes_name(api, sub_account):
    contact = ContactFactory(sub_account=sub_account, phone=GB)
    api.patch(f"{CONTACTS}{contact.pk}/", {"first_name": "Ana"}, format="json")
    contact.refresh_from_db()
    assert contact.first_name == "Ana"


def test_bulk_upserts_by_phone(api, sub_account):
    ContactFactory(sub_account=sub_account, phone=GB, first_name="Old")
    body = {"contacts": [{"phone": GB, "first_name": "New"}, {"phone": "+447400123457"}]}
    response = api.post(f"{CONTACTS}bulk/", body, format="json")
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)


def test_bulk_updates_stored_fields(api, sub_account):
    contact = ContactFactory(sub_account=sub_account, phone=GB, first_name="Old")
    api.post(f"{CONTACTS}bulk/", {"contacts": [{"phone": GB, "first_name": "New"}]}, format="json")
    contact.refresh_from_db()
    assert contact.first_name == "New"


def test_bulk_reports_row_field(api):
    body = {"contacts": [{"phone": GB}, {"phone": "nope"}]}
    response = api.post(f"{CONTACTS}bulk/", body, format="json")
    assert list(response.json()["error"]["fields"]) == ["contacts.1.phone"]


def test_bulk_with_error_stores_nothing(api, sub_account):
    body = {"contacts": [{"phone": GB}, {"phone": "nope"}]}
    api.post(f"{CONTACTS}bulk/", body, format="json")
    assert not Contact.objects.filter(sub_account=sub_account).exists()


def test_opt_out_per_channel(api, sub_account):
    contact = ContactFactory(sub_account=sub_account, phone=GB)
    body = {"channel": "sms", "opted_out": True}
    api.post(f"{CONTACTS}{contact.pk}/opt-outs/", body, format="json")
    contact.refresh_from_db()
    assert contact.sms_opt_out_at is not None
    assert contact.whatsapp_opt_out_at is None


def test_opt_in_clears_opt_out(api, sub_account):
    contact = ContactFactory(sub_account=sub_account, phone=GB)
    contact.opt_out("whatsapp", "test")
    contact.save()
    body = {"channel": "whatsapp", "opted_out": False}
    api.post(f"{CONTACTS}{contact.pk}/opt-outs/", body, format="json")
    contact.refresh_from_db()
    assert contact.whatsapp_opt_out_at is None
