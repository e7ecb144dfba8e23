"""The query that claims a campaign's waiting recipients reads them from an index in claim
order, so claims do not slow down as the campaign's sent recipients add up."""

import pytest
from django.db import connection

from campaigns import launch
from campaigns.models import CampaignStatus, Recipient, RecipientStatus
from messaging.dispatch import due_in_order
from tests.factories import CampaignFactory, ContactFactory

pytestmark = pytest.mark.django_db


def plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += plan_nodes(child)
    return nodes


def test_claim_reads_index_in_order():
    if connection.vendor != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL: set DATABASE_URL=postgres://...")
    campaign = CampaignFactory.create()
    for status in (RecipientStatus.WHATSAPP_SENT, RecipientStatus.PENDING):
        for _ in range(3):
            contact = ContactFactory.create(sub_account=campaign.sub_account)
            Recipient.objects.create(
                campaign=campaign, contact=contact, phone=contact.phone, status=status
            )
    sql, params = due_in_order(campaign.pk, RecipientStatus.PENDING)[:100].query.sql_with_params()
    with connection.cursor() as cursor:
        # Too few rows for the planner to prefer an index on its own.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        [explained] = cursor.fetchone()[0]
    nodes = plan_nodes(explained["Plan"])

    assert "recipient_claim_order" in {node.get("Index Name") for node in nodes}
    assert "Sort" not in {node["Node Type"] for node in nodes}


def test_large_launch_refreshes_statistics(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's: set DATABASE_URL=postgres://...")
    monkeypatch.setattr(launch, "ANALYZE_AFTER_RECIPIENTS", 3)
    campaign = CampaignFactory.create(status=CampaignStatus.LAUNCHING)
    for _ in range(3):
        ContactFactory.create(sub_account=campaign.sub_account)

    launch.launch_campaign(campaign.pk)

    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = 'campaigns_recipient'")
        [estimated] = cursor.fetchone()
    assert estimated == Recipient.objects.count()
