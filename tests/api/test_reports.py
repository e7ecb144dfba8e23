"""Reports: the figures of reports.figures per campaign and per sub-account."""

import datetime

import pytest

from campaigns.models import RecipientStatus
from tests.factories import CampaignFactory
from tests.report_data import add_rates, every_outcome

pytestmark = pytest.mark.django_db

CAMPAIGNS = "/api/v1/campaigns/"
REPORT = "/api/v1/report/"


@pytest.fixture
def campaign(sub_account):
    made = CampaignFactory(sub_account=sub_account)
    add_rates(made)
    every_outcome(made)
    return made


def campaign_report(api, campaign, query: str = "") -> dict:
    return api.get(f"{CAMPAIGNS}{campaign.pk}/report/{query}").json()


def test_campaign_counts_targeted(api, campaign):
    assert campaign_report(api, campaign)["total"]["figures"]["targeted"] == 11


def test_campaign_counts_recovered(api, campaign):
    assert campaign_report(api, campaign)["total"]["figures"]["recovered"] == 2


def test_campaign_fallback_rates(api, campaign):
    total = campaign_report(api, campaign)["total"]
    assert (total["fallback_rate"], total["fallback_success_rate"]) == (3 / 7, 2 / 3)


def test_campaign_reach(api, campaign):
    assert campaign_report(api, campaign)["total"]["reach"] == 5 / 11


def test_skipped_by_reason(api, campaign):
    reasons = campaign_report(api, campaign)["skipped_by_reason"]
    assert {r["reason"]: r["recipients"] for r in reasons} == {
        "invalid_number": 1,
        "no_consent": 1,
    }


def test_failures_by_class_and_code(api, campaign):
    failures = campaign_report(api, campaign)["failures"]
    found = {(f["channel"], f["code"]): f["error_class"] for f in failures}
    assert found[("whatsapp", "131026")] == "fallback"


def test_failed_both_pairs(api, campaign):
    pairs = campaign_report(api, campaign)["failed_both_pairs"]
    assert [(p["reason"], p["recipients"]) for p in pairs] == [("131026/30006", 1)]


def test_spend_by_channel(api, campaign):
    channels = campaign_report(api, campaign)["total"]["spend"]["channels"]
    # Two WhatsApp deliveries in GB at 0.05, plus the one delivered on both channels.
    assert channels["whatsapp"]["cost"] == "0.15000"


def test_spend_price_has_markup(api, campaign):
    spend = campaign_report(api, campaign)["total"]["spend"]
    assert spend["price"] == "0.35000"


def test_grouped_by_country(api, campaign):
    rows = campaign_report(api, campaign, "?by=country")["rows"]
    assert [(r["key"], r["figures"]["targeted"]) for r in rows] == [("GB", 10), ("US", 1)]


def test_date_range_leaves_out_in_flight(api, campaign):
    today = datetime.date.today().isoformat()
    total = campaign_report(api, campaign, f"?start={today}&end={today}")["total"]
    assert total["figures"]["in_flight"] == 0


def test_date_range_before_finish_is_empty(api, campaign):
    total = campaign_report(api, campaign, "?end=2000-01-01")["total"]
    assert total["figures"]["targeted"] == 0


def test_unknown_grouping_is_400(api, campaign):
    error = campaign_report(api, campaign, "?by=planet")["error"]
    assert list(error["fields"]) == ["by"]


def test_bad_date_is_400(api, campaign):
    error = campaign_report(api, campaign, "?start=yesterday")["error"]
    assert list(error["fields"]) == ["start"]


def test_end_before_start_is_400(api, campaign):
    error = campaign_report(api, campaign, "?start=2026-02-02&end=2026-02-01")["error"]
    assert list(error["fields"]) == ["end"]


def test_other_sub_account_report_is_404(api, other_sub_account):
    hidden = CampaignFactory(sub_account=other_sub_account)
    assert api.get(f"{CAMPAIGNS}{hidden.pk}/report/").status_code == 404


def test_sub_account_report_adds_campaigns(api, campaign, sub_account):
    second = CampaignFactory(sub_account=sub_account, template=campaign.template)
    second.recipients.create(
        contact=campaign.recipients.first().contact, status=RecipientStatus.CANCELLED
    )
    report = api.get(REPORT).json()
    assert (report["scope"], report["total"]["figures"]["targeted"]) == ("sub_account", 12)


def test_sub_account_report_by_campaign(api, campaign):
    rows = api.get(f"{REPORT}?by=campaign").json()["rows"]
    assert [r["key"] for r in rows] == [str(campaign.pk)]


def test_sub_account_report_hides_others(api, other_sub_account):
    hidden = CampaignFactory(sub_account=other_sub_account)
    every_outcome(hidden)
    assert api.get(REPORT).json()["total"]["figures"]["targeted"] == 0


def test_report_needs_key(client):
    assert client.get(REPORT).status_code == 401
