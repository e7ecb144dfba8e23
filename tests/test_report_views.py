"""Report pages: scoping, drill-down, CSV export and the agency roll-up."""

import csv
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from campaigns.models import CampaignStatus
from reports.models import SmsRate
from tests.factories import CampaignFactory
from tests.report_data import add_rates, every_outcome

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign():
    made = CampaignFactory(status=CampaignStatus.RUNNING)
    add_rates(made)
    every_outcome(made)
    return made


@pytest.fixture
def marketer(campaign, client):
    user = User.objects.create_user("marketer")
    campaign.sub_account.marketers.add(user)
    client.force_login(user)
    return user


def test_campaign_page_shows_figures(campaign, marketer, client):
    response = client.get(f"/reports/campaign/{campaign.pk}/?by=country")
    assert response.status_code == 200
    assert b"fallback triggered" in response.content
    assert b"chart.umd.min.js" in response.content


def test_other_sub_account_hidden(marketer, client):
    other = CampaignFactory()
    assert client.get(f"/reports/campaign/{other.pk}/").status_code == 404
    assert client.get(f"/reports/sub_account/{other.sub_account.pk}/").status_code == 404


def test_agency_needs_staff(campaign, marketer, client):
    response = client.get(f"/reports/agency/{campaign.sub_account.agency.pk}/")
    assert response.status_code == 404


def test_agency_roll_up_for_staff(campaign, client):
    staff = User.objects.create_user("staff", is_staff=True)
    campaign.sub_account.agency.staff.add(staff)
    client.force_login(staff)
    response = client.get(f"/reports/agency/{campaign.sub_account.agency.pk}/?by=sub_account")
    assert response.status_code == 200
    assert b"0.35" in response.content  # agency price of the campaign's spend


def test_report_csv(campaign, marketer, client):
    response = client.get(f"/reports/sub_account/{campaign.sub_account.pk}/?format=csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["fallback_triggered"] == "3"
    assert rows[0]["total"] == "total"


@pytest.mark.parametrize(("by", "label"), [("error_code", "no error code"), ("day", "in flight")])
def test_report_csv_names_empty_keys(campaign, marketer, client, by, label):
    response = client.get(f"/reports/campaign/{campaign.pk}/?by={by}&format=csv")
    keys = [row[by] for row in csv.DictReader(io.StringIO(response.content.decode()))]

    assert label in keys
    assert "" not in keys


def test_drill_down_csv(campaign, marketer, client):
    url = f"/reports/campaign/{campaign.pk}/recipients/?figure=recovered&format=csv"
    content = b"".join(client.get(url).streaming_content).decode()
    assert len(content.splitlines()) == 1 + 2


def test_drill_down_page(campaign, marketer, client):
    url = f"/reports/campaign/{campaign.pk}/recipients/?figure=failed_both&by=country&key=GB"
    page = client.get(url).content.decode()

    assert ": failed on both · country: GB</h1>" in page
    assert "<td>failed on both channels</td>" in page
    assert "131026: " in page
    assert "; then 30006: " in page


def test_bad_date_rejected(campaign, marketer, client):
    response = client.get(f"/reports/campaign/{campaign.pk}/?start=yesterday")
    assert response.status_code == 400
    assert b"use YYYY-MM-DD" in response.content


def test_unknown_figure_rejected(campaign, marketer, client):
    response = client.get(f"/reports/campaign/{campaign.pk}/recipients/?figure=opens")
    assert response.status_code == 400


def test_roll_up_names_sub_accounts(campaign, client):
    staff = User.objects.create_user("staff", is_staff=True)
    campaign.sub_account.agency.staff.add(staff)
    client.force_login(staff)
    response = client.get(f"/reports/agency/{campaign.sub_account.agency.pk}/?by=sub_account")
    assert campaign.sub_account.name.encode() in response.content


def test_admin_imports_rate_file(campaign, client):
    staff = User.objects.create_superuser("root")
    client.force_login(staff)
    upload = SimpleUploadedFile(
        "rates.csv", b"channel,category,country,price\nsms,,FR,0.07\nsms,,QQ,1\n"
    )
    agency = campaign.sub_account.agency
    response = client.post(
        "/admin/reports/smsrate/import/", {"agency": agency.pk, "file": upload}, follow=True
    )
    assert SmsRate.objects.get(agency=agency, country="FR").price == Decimal("0.07")
    assert b"Line 3: country" in response.content


def test_agencies_page_lists_own(campaign, client):
    staff = User.objects.create_user("staff", is_staff=True)
    campaign.sub_account.agency.staff.add(staff)
    other = CampaignFactory()
    client.force_login(staff)
    content = client.get("/reports/agencies/").content
    assert campaign.sub_account.agency.name.encode() in content
    assert other.sub_account.agency.name.encode() not in content


def test_error_code_rows_in_words(campaign, marketer, client):
    page = client.get(f"/reports/campaign/{campaign.pk}/?by=error_code").content.decode()

    assert "<td>no error code</td>" in page
    assert "131026: number not reachable on WhatsApp" in page
