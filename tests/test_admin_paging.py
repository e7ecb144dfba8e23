"""The capped paginator stops counting at its limit."""

import pytest

from campaigns import admin_paging
from campaigns.admin_paging import CappedCountPaginator
from campaigns.models import Contact
from tests.factories import ContactFactory, SubAccountFactory

pytestmark = pytest.mark.django_db


def test_count_below_limit():
    ContactFactory.create_batch(3, sub_account=SubAccountFactory.create())

    assert CappedCountPaginator(Contact.objects.all(), 2).count == 3


def test_count_stops_at_limit(monkeypatch):
    monkeypatch.setattr(admin_paging, "COUNT_LIMIT", 4)
    ContactFactory.create_batch(6, sub_account=SubAccountFactory.create())

    assert CappedCountPaginator(Contact.objects.all(), 2).count == 4
