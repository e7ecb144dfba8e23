"""A marketer in headless Chromium: log in, import, compose, launch, watch, read results."""

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from campaigns.models import Campaign, CampaignStatus, Contact
from messaging.segments import count
from reports.models import SmsRate, WhatsAppRate
from tests.conftest import wait_until
from tests.factories import SubAccountFactory, TemplateFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV_FILE = Path(__file__).resolve().parents[2] / "campaigns/demo_data/contacts-crm-export.csv"
PASSWORD = "correct horse battery staple"
# The campaign goes to a few imported contacts only, so the sends finish in seconds.
TAG = "browser-test"
FALLBACK_TEXT = (
    "Our spring sale is on \U0001f389 20% off everything until Sunday at midnight. "
    "Reply STOP to opt out."
)


@pytest.fixture
def marketer(sandbox):
    sub_account = SubAccountFactory(name="Florist")
    TemplateFactory(sub_account=sub_account, name="spring_sale")
    agency = sub_account.agency
    WhatsAppRate.objects.create(
        agency=agency, category="MARKETING", calling_code="44", price=Decimal("0.0529")
    )
    SmsRate.objects.create(agency=agency, country="US", price=Decimal("0.0083"))
    user = User.objects.create_user("marketer", password=PASSWORD)
    sub_account.marketers.add(user)
    return user


def tag_some_contacts(sandbox) -> None:
    """Tag two GB and two US contacts; one GB number is made unreachable on WhatsApp."""
    gb = list(Contact.objects.filter(country="GB").order_by("id")[:2])
    us = list(Contact.objects.filter(country="US").order_by("id")[:2])
    for contact in gb + us:
        contact.tags = [*contact.tags, TAG]
        contact.save()
    sandbox.configure(
        unreachable_percent=0,
        whatsapp_fail_codes={gb[0].phone: 131026},
        webhook_delay_ms=50,
    )


def shoot(page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / f"{name}.png"), full_page=True)


def test_marketer_flow(live_server, sandbox, marketer, browser_page, screenshot_dir, tmp_path):
    page = browser_page

    # Log in.
    page.goto(f"{live_server.url}/login/")
    shoot(page, screenshot_dir, "01-login")
    page.get_by_label("Username").fill("marketer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()

    # Import the CRM export.
    page.get_by_role("link", name="Contacts").click()
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(CSV_FILE))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_role("heading", name="Import finished")).to_be_visible()
    shoot(page, screenshot_dir, "02-import-result")
    created = int(page.locator("#import-created").inner_text())
    assert created == Contact.objects.count()
    assert int(page.locator("#import-rejected").inner_text()) > 0
    expect(page.get_by_role("link", name="Download the rows not imported (CSV)")).to_be_visible()

    page.get_by_role("link", name="Go to contacts").click()
    page.get_by_label("Tag").select_option("vip")
    expect(page.locator("#contact-table")).to_contain_text("vip")
    shoot(page, screenshot_dir, "03-contacts")

    # Compose: a few tagged contacts, and a fallback text with an emoji.
    tag_some_contacts(sandbox)
    page.goto(f"{live_server.url}/campaigns/new/")
    page.get_by_label("Name").fill("Spring sale")
    page.get_by_label("Contacts with any of these tags").check()
    page.get_by_label(TAG).check()
    page.get_by_label("Template").select_option(label="spring_sale (en_US)")
    expect(page.locator("#id_var_0_source")).to_be_visible()
    page.get_by_label("SMS text", exact=True).fill(FALLBACK_TEXT)

    expected = count(FALLBACK_TEXT)
    assert (expected.encoding, expected.segments) == ("UCS-2", 2)
    expect(page.locator("#sms-encoding")).to_have_text("UCS-2")
    expect(page.locator("#sms-segments")).to_have_text("2")
    expect(page.locator("#audience-count")).to_have_text("4")
    expect(page.locator(".wa-bubble")).to_contain_text("spring sale")
    shoot(page, screenshot_dir, "04-compose")

    page.get_by_role("button", name="Review").click()
    expect(page.locator("#route-direct-sms")).to_have_text("2")
    expect(page.locator("#route-whatsapp")).to_have_text("2")
    expect(page.locator("#estimate")).to_contain_text("0.1058")
    expect(page.locator("#schedule-summary")).to_contain_text("Sends as soon as it is launched")
    shoot(page, screenshot_dir, "05-review")

    # Launch and watch: jobs run in this thread while the page polls.
    page.get_by_role("button", name="Launch to 4 recipients").click()
    expect(page.locator("#campaign-status")).to_be_visible()
    campaign = Campaign.objects.get(name="Spring sale")

    def completed() -> bool:
        campaign.refresh_from_db()
        return campaign.status == CampaignStatus.COMPLETED

    assert wait_until(completed, timeout=60)
    expect(page.locator("#progress-percent")).to_have_text("100 %", timeout=10_000)
    # The last progress poll refreshes the spend: GB has no SMS rate for the fallback.
    expect(page.locator("#spend")).to_contain_text("no rate for 1")
    shoot(page, screenshot_dir, "06-campaign")

    # Delivery log, fallbacks only, then the CSV export.
    page.get_by_role("link", name="Delivery log").click()
    page.get_by_label("SMS").select_option("fallback")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#log-count")).to_have_text("1 recipient")
    expect(page.locator("table.log")).to_contain_text("131026")
    shoot(page, screenshot_dir, "07-delivery-log")

    with page.expect_download() as download_info:
        page.locator("#export-csv").click()
    exported = tmp_path / "export.csv"
    download_info.value.save_as(exported)
    rows = list(csv.DictReader(io.StringIO(exported.read_text(encoding="utf-8"))))
    assert len(rows) == 1
    assert rows[0]["fallback_triggered"] == "True"
    assert rows[0]["final_state"] == "delivered_sms"

    # The campaign's report, reached from its page.
    page.goto(f"{live_server.url}/campaigns/{campaign.pk}/")
    page.get_by_role("link", name="Report", exact=True).click()
    expect(page.locator("h1")).to_contain_text("Spring sale")
    shoot(page, screenshot_dir, "08-report")
