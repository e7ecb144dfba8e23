"""Report figures against numbers worked out by hand, and against the delivery log."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import CampaignStatus, Recipient, RecipientStatus
from messaging.models import AttemptStatus
from reports.export import recipients_csv, report_csv
from reports.figures import (
    FIGURES,
    agency_figures,
    campaign_figures,
    recipients_behind,
    sub_account_figures,
)
from tests.factories import CampaignFactory
from tests.report_data import add_rates, every_outcome, recipient

pytestmark = pytest.mark.django_db

# Worked out from tests/report_data.every_outcome, one recipient at a time.
EXPECTED = {
    "targeted": 11,
    "skipped": 2,
    "whatsapp_attempted": 7,  # both delivered, recovered, failed x2, delivered_both, in flight
    "whatsapp_delivered": 3,  # delivered, read, delivered_both
    "whatsapp_failed": 3,  # recovered, failed_whatsapp, failed_both
    "fallback_triggered": 3,  # recovered, failed_both, delivered_both
    "fallback_delivered": 2,  # recovered, delivered_both
    "direct_sms": 1,
    "direct_sms_delivered": 1,
    "delivered": 5,
    "recovered": 2,
    "delivered_both": 1,
    "failed_whatsapp": 1,
    "failed_both": 1,
    "cancelled": 1,
    "in_flight": 1,
}


@pytest.fixture
def campaign():
    made = CampaignFactory(status=CampaignStatus.RUNNING)
    add_rates(made)
    every_outcome(made)
    return made


@pytest.mark.parametrize("name", list(EXPECTED))
def test_campaign_figure(campaign, name):
    assert campaign_figures(campaign).total[name] == EXPECTED[name]


def test_rates_by_hand(campaign):
    total = campaign_figures(campaign).total
    assert total.fallback_rate == 3 / 7
    assert total.fallback_success_rate == 2 / 3
    assert total.reach == 5 / 11
    assert total.recovered_rate == 2 / 11


def test_spend_by_hand(campaign):
    spend = campaign_figures(campaign).total.spend
    # WhatsApp: 3 delivered GB MARKETING at 0.05. SMS: GB 2 + 1 segments at 0.04, US 1 at 0.01.
    assert spend.channels["whatsapp"].cost == Decimal("0.15")
    assert spend.channels["sms"].cost == Decimal("0.13")
    assert spend.channels["sms"].segments == 4
    assert spend.price == Decimal("0.35")


def test_breakdowns(campaign):
    report = campaign_figures(campaign)
    assert report.skipped_reasons == {"invalid_number": 1, "no_consent": 1}
    assert report.failed_both_pairs == {"131026/30006": 1}
    assert report.failures[("whatsapp", "fallback", "131026")] == 2
    assert report.failures[("whatsapp", "terminal", "131051")] == 1
    assert report.failures[("sms", "terminal", "30006")] == 1


@pytest.mark.parametrize("by", ["day", "country", "category", "error_code", "campaign"])
def test_groups_add_up(campaign, by):
    report = campaign_figures(campaign, by=by)
    for figure in FIGURES:
        assert sum(row[figure.name] for row in report.rows) == report.total[figure.name]


def test_groups_by_country(campaign):
    rows = {row.key: row for row in campaign_figures(campaign, by="country").rows}
    assert rows["US"]["direct_sms_delivered"] == 1
    assert rows["GB"]["targeted"] == 10


@pytest.mark.parametrize("by", [None, "country", "error_code", "day"])
def test_drill_down_matches(campaign, by):
    report = campaign_figures(campaign, by=by)
    scope = Recipient.objects.filter(campaign=campaign)
    for row in report.rows if by else [report.total]:
        for figure in FIGURES:
            behind = recipients_behind(scope, figure.name, by=by, key=row.key)
            assert behind.count() == row[figure.name], (figure.name, row.key)


def test_figures_equal_export(campaign):
    scope = Recipient.objects.filter(campaign=campaign)
    log = list(
        csv.DictReader(io.StringIO("".join(recipients_csv(recipients_behind(scope, "targeted")))))
    )
    total = campaign_figures(campaign).total
    for figure in FIGURES:
        exported = sum(1 for row in log if figure.test(_cell(row)))
        assert exported == total[figure.name], figure.name


def test_exported_figure_rows(campaign):
    scope = Recipient.objects.filter(campaign=campaign)
    exported = "".join(recipients_csv(recipients_behind(scope, "fallback_triggered")))
    assert len(exported.splitlines()) == 1 + EXPECTED["fallback_triggered"]


def test_report_csv_has_each_group(campaign):
    lines = report_csv(campaign_figures(campaign, by="country")).splitlines()
    assert [line.split(",")[0] for line in lines] == ["country", "GB", "US"]


def test_finished_campaign_reads_stored_cells(campaign, django_assert_max_num_queries):
    campaign.status = CampaignStatus.COMPLETED
    campaign.save()
    campaign_figures(campaign)
    with django_assert_max_num_queries(6):
        total = campaign_figures(campaign).total
    assert total["targeted"] == 11


def test_stored_cells_follow_late_change(campaign):
    campaign.status = CampaignStatus.COMPLETED
    campaign.save()
    campaign_figures(campaign)
    attempt = Recipient.objects.get(campaign=campaign, status="whatsapp_sent").attempts.get()
    attempt.status = "delivered"
    attempt.save()
    assert campaign_figures(campaign).total["whatsapp_delivered"] == 4


def test_sub_account_and_agency_roll_up(campaign):
    other = CampaignFactory(
        sub_account=campaign.sub_account, template=campaign.template, status=CampaignStatus.RUNNING
    )
    every_outcome(other)
    agency = agency_figures(campaign.sub_account.agency, by="sub_account")
    assert sub_account_figures(campaign.sub_account).total["targeted"] == 22
    assert agency.rows[0].spend.cost == Decimal("0.56")


def test_date_range_excludes_in_flight(campaign):
    today = timezone.now().date()
    assert campaign_figures(campaign, start=today, end=today).total["targeted"] == 10


def test_date_range_before_sends(campaign):
    yesterday = timezone.now().date() - datetime.timedelta(days=1)
    assert campaign_figures(campaign, end=yesterday).total["targeted"] == 0


def test_unknown_grouping_rejected(campaign):
    with pytest.raises(ValueError, match="grouping 'week'"):
        campaign_figures(campaign, by="week")


def _cell(row: dict[str, str]) -> dict[str, object]:
    return {
        "route": row["route"],
        "status": row["status"],
        "delivered_both": row["delivered_both"] == "True",
        "fallback_triggered": row["fallback_triggered"] == "True",
        "wa_status": row["whatsapp_status"],
        "sms_status": row["sms_status"],
    }


def test_held_fallback_counts_as_triggered():
    """A fallback SMS waiting for US quiet hours has no attempt row yet, and counts."""
    campaign = CampaignFactory.create(status=CampaignStatus.RUNNING)
    held_recipient = recipient(
        campaign,
        RecipientStatus.SMS_PENDING,
        whatsapp=(AttemptStatus.FAILED, "131049"),
        fallback_triggered=True,
    )

    assert campaign_figures(campaign).total["fallback_triggered"] == 1
    scope = Recipient.objects.filter(campaign=campaign)
    assert list(recipients_behind(scope, "fallback_triggered")) == [held_recipient]
