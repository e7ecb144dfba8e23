"""Run a demo campaign over the sample CRM export against the provider sandbox."""

import time
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Min
from django.utils import timezone

from campaigns import reasons
from campaigns.contact_import import ImportFileError, import_contacts
from campaigns.decision_log import explain_recipient
from campaigns.launch import start_launch
from campaigns.models import (
    FINAL_STATUSES,
    Agency,
    Campaign,
    CampaignStatus,
    RecipientStatus,
    SubAccount,
    Template,
)
from campaigns.template_sync import sync_templates
from messaging.dispatch import WAITING
from reports.rate_import import import_rates

DEMO_DATA = Path(__file__).resolve().parents[2] / "demo_data"
SAMPLE_CSV = DEMO_DATA / "contacts-crm-export.csv"
# Illustrative prices for the demo's spend figures, not any provider's price list.
SAMPLE_RATES = DEMO_DATA / "rates.csv"
FALLBACK_TEXT = (
    "Hi {first_name}, our spring sale is on: 20% off everything until Sunday. "
    "Reply STOP to opt out."
)


class Command(BaseCommand):
    help = (
        "Create a demo agency wired to the sandbox, import the sample contacts, launch a "
        "MARKETING campaign with SMS fallback, wait for it and print the outcome."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", type=Path, default=SAMPLE_CSV, help="contacts CSV to import")
        parser.add_argument("--timeout", type=float, default=180, help="seconds to wait")
        parser.add_argument("--no-wait", action="store_true", help="launch and return")
        parser.add_argument(
            "--direct-us-sms",
            action="store_true",
            help="send US numbers straight to SMS instead of showing the fallback",
        )

    def handle(self, *args, **options) -> None:
        sub_account = self._sub_account()
        try:
            sync_templates(sub_account)
        except Exception as exc:
            raise CommandError(
                f"Could not read templates from the sandbox: {exc}. "
                "Is the sandbox running (python3 run.py start)?"
            ) from exc
        self._import(sub_account, options["csv"])
        campaign = Campaign.objects.create(
            sub_account=sub_account,
            name=f"Spring sale demo {Campaign.objects.count() + 1}",
            template=Template.objects.get(sub_account=sub_account, name="spring_sale"),
            variables=["contact.first_name"],
            fallback_text=FALLBACK_TEXT,
            direct_sms_for_us_marketing=options["direct_us_sms"],
        )
        start_launch(campaign)
        self.stdout.write(f"campaign {campaign.pk} launched: {campaign.name}")
        if not options["no_wait"]:
            self._wait(campaign, options["timeout"])

    def _sub_account(self) -> SubAccount:
        agency, created = Agency.objects.get_or_create(
            name="Demo Agency", defaults={"markup": Decimal("0.20")}
        )
        if created:
            import_rates(agency, SAMPLE_RATES.read_text())
        sub_account, _ = SubAccount.objects.get_or_create(
            agency=agency,
            name="Demo Client",
            defaults={
                "whatsapp_phone_number_id": "100000000000001",
                "whatsapp_business_account_id": "200000000000001",
                "whatsapp_display_number": "+15550100001",
                "whatsapp_access_token": "sandbox-access-token",
                "twilio_account_sid": "AC" + "0" * 31 + "1",
                "twilio_auth_token": "sandbox-auth-token",
                "sms_from_number": "+15550100002",
            },
        )
        return sub_account

    def _import(self, sub_account: SubAccount, path: Path) -> None:
        try:
            result = import_contacts(sub_account, path)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"imported {path.name}: {result.created} new, {result.updated} updated, "
            f"{result.duplicates} duplicates, {result.rejected} rejected"
        )
        for row in result.rejected_rows[:10]:
            self.stdout.write(f"  row {row.row_number}: {row.value!r}: {row.reason}")
        if result.rejected > 10:
            self.stdout.write(
                f"  ... and {result.rejected - 10} more rejected rows; list them all with "
                f"`manage.py import_contacts --rejected-csv rejected.csv` or on the contacts "
                "page's import"
            )

    def _wait(self, campaign: Campaign, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            campaign.refresh_from_db()
            if campaign.status in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
                break
            wait_ends = timezone.now() + timedelta(seconds=deadline - time.monotonic())
            if self._only_later_sends_left(campaign, wait_ends):
                break
            time.sleep(1)
        else:
            self.stdout.write(self.style.WARNING(f"still {campaign.status} after {timeout:.0f} s"))
            waiting = campaign.recipients.filter(status=RecipientStatus.WHATSAPP_SENT).count()
            if waiting:
                self.stdout.write(
                    f"{waiting} recipients wait for a WhatsApp status webhook. If the web log "
                    "says 'WhatsApp webhook rejected', the sandbox and the app use different "
                    "META_APP_SECRET values; if it says nothing, check that the worker runs."
                )
        self._summary(campaign)

    def _only_later_sends_left(self, campaign: Campaign, after: datetime) -> bool:
        """Return whether every recipient is final or waits to be sent after `after` (US
        quiet hours, for instance), which the demo cannot wait for."""
        campaign.refresh_from_db(fields=["status", "status_reason"])
        if campaign.status != CampaignStatus.RUNNING:
            return False
        open_recipients = campaign.recipients.exclude(status__in=FINAL_STATUSES)
        waiting = open_recipients.filter(status__in=WAITING, send_after__gt=after)
        return open_recipients.exists() and open_recipients.count() == waiting.count()

    def _summary(self, campaign: Campaign) -> None:
        recipients = campaign.recipients.all()
        if self._only_later_sends_left(campaign, timezone.now()):
            later = recipients.exclude(status__in=FINAL_STATUSES)
            first = later.aggregate(first=Min("send_after"))["first"]
            self.stdout.write(
                f"\ncampaign {campaign.pk} is waiting for later send times; "
                f"{recipients.count()} recipients, {later.count()} of them due from "
                f"{first:%Y-%m-%d %H:%M} UTC, every other one final"
            )
            if campaign.status_reason:
                self.stdout.write(f"  {campaign.status_reason}")
        else:
            self.stdout.write(
                f"\ncampaign {campaign.pk} is {campaign.status}; {recipients.count()} recipients"
            )
        self.stdout.write("states:")
        for status, count in Counter(recipients.values_list("status", flat=True)).most_common():
            self.stdout.write(f"  {RecipientStatus(status).label:<26} {count}")
        self.stdout.write("reasons:")
        pairs = Counter(recipients.exclude(reason="").values_list("status", "reason"))
        for (status, reason), count in pairs.most_common():
            label = RecipientStatus(status).label
            self.stdout.write(f"  {label:<26} {count:>5}  {reasons.describe(reason)}")
        self._examples(campaign)

    def _examples(self, campaign: Campaign) -> None:
        """Print the decision log of one recipient per final state, with the most telling
        route: a fallback or a direct SMS where there is one."""
        self.stdout.write("decision log of one recipient per final state:")
        statuses = campaign.recipients.values_list("status", flat=True).distinct()
        for status in sorted(set(statuses)):
            example = (
                campaign.recipients.filter(status=status)
                .order_by("-fallback_triggered", "-route", "id")
                .first()
            )
            if example is None:
                continue
            lines = explain_recipient(example)
            self.stdout.write(f"  [{RecipientStatus(status).label}] {lines[0]}")
            for line in lines[1:]:
                self.stdout.write(f"      {line}")
