"""Report days are local days in each sub-account's time zone, in the figures, their date
ranges and the recipients behind them."""

import datetime

import pytest

from campaigns.models import CampaignStatus, Recipient, RecipientStatus
from messaging.models import AttemptStatus
from reports.figures import agency_figures, campaign_figures, recipients_behind
from tests.factories import AgencyFactory, CampaignFactory, SubAccountFactory
from tests.report_data import recipient

pytestmark = pytest.mark.django_db

UTC = datetime.UTC
DEC_4 = datetime.date(2026, 12, 4)
DEC_5 = datetime.date(2026, 12, 5)


def delivered_at(zone: str, finished: datetime.datetime, agency=None):
    """Create a running campaign of a sub-account in `zone` with one recipient delivered at
    `finished`."""
    sub_account = SubAccountFactory.create(timezone=zone, agency=agency or AgencyFactory.create())
    campaign = CampaignFactory.create(sub_account=sub_account, status=CampaignStatus.RUNNING)
    delivered = recipient(
        campaign, RecipientStatus.DELIVERED_WHATSAPP, whatsapp=(AttemptStatus.DELIVERED, "")
    )
    Recipient.objects.filter(pk=delivered.pk).update(finished_at=finished)
    return campaign


@pytest.fixture
def sydney():
    # 07:00 on 5 December in Sydney (UTC+11), still 4 December in UTC.
    return delivered_at("Australia/Sydney", datetime.datetime(2026, 12, 4, 20, tzinfo=UTC))


def test_day_is_local(sydney):
    report = campaign_figures(sydney, by="day")

    assert [row.key for row in report.rows] == [DEC_5]


def test_date_range_local(sydney):
    assert campaign_figures(sydney, start=DEC_5, end=DEC_5).total["targeted"] == 1
    assert campaign_figures(sydney, start=DEC_4, end=DEC_4).total["targeted"] == 0


def test_recipients_behind_local_day(sydney):
    scope = Recipient.objects.filter(campaign=sydney)

    assert recipients_behind(scope, "targeted", by="day", key=DEC_5).count() == 1
    assert recipients_behind(scope, "targeted", by="day", key=DEC_4).count() == 0
    assert recipients_behind(scope, "targeted", start=DEC_5, end=DEC_5).count() == 1


def test_agency_days_per_sub_account(sydney):
    # 19:00 on 4 December in Los Angeles (UTC-8), already 5 December in UTC.
    delivered_at(
        "America/Los_Angeles",
        datetime.datetime(2026, 12, 5, 3, tzinfo=UTC),
        agency=sydney.sub_account.agency,
    )

    report = agency_figures(sydney.sub_account.agency, by="day")

    assert {row.key: row["targeted"] for row in report.rows} == {DEC_4: 1, DEC_5: 1}


def test_stored_days_follow_zone_change(sydney):
    sydney.status = CampaignStatus.COMPLETED
    sydney.save()
    assert [row.key for row in campaign_figures(sydney, by="day").rows] == [DEC_5]

    sydney.sub_account.timezone = "UTC"
    sydney.sub_account.save()

    assert [row.key for row in campaign_figures(sydney, by="day").rows] == [DEC_4]


def test_invalid_zone_counts_in_utc():
    campaign = delivered_at("Mars/Olympus", datetime.datetime(2026, 12, 4, 20, tzinfo=UTC))

    assert [row.key for row in campaign_figures(campaign, by="day").rows] == [DEC_4]
    scope = Recipient.objects.filter(campaign=campaign)
    assert recipients_behind(scope, "targeted", by="day", key=DEC_4).count() == 1
