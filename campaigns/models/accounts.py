"""Agencies and their sub-accounts, with each sub-account's WhatsApp and SMS senders."""

from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    # Agency price = provider cost x (1 + markup); 0.25 means 25 %.
    markup = models.DecimalField(max_digits=6, decimal_places=4, default=Decimal("0"))
    # Agency staff: manage every sub-account of the agency in admin.
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="staff_of_agencies", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "agencies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BusinessPortfolio(models.Model):
    """Meta's container of WhatsApp senders. Its messaging limit caps the unique recipients
    that all its senders together may message in a moving 24 h."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="portfolios")
    name = models.CharField(max_length=200)
    meta_business_id = models.CharField("Meta business id", max_length=64, blank=True)
    # Meta's tiers are 250, 1,000, 10,000 and 100,000 unique recipients per 24 h, or
    # unlimited; copy the tier shown in WhatsApp Manager.
    messaging_limit = models.PositiveIntegerField(
        default=1000, help_text="Unique recipients per moving 24 h; 0 means unlimited."
    )

    class Meta:
        ordering = ["agency__name", "name"]

    def __str__(self) -> str:
        return f"{self.agency.name} / {self.name}"


class SubAccount(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="sub_accounts")
    name = models.CharField(max_length=200)
    timezone = models.CharField(max_length=64, default="UTC")

    whatsapp_phone_number_id = models.CharField(
        "WhatsApp phone number id", max_length=64, blank=True
    )
    whatsapp_business_account_id = models.CharField(
        "WhatsApp business account id", max_length=64, blank=True
    )
    whatsapp_display_number = models.CharField(max_length=32, blank=True)
    whatsapp_access_token = models.CharField(max_length=512, blank=True)
    whatsapp_messages_per_second = models.PositiveIntegerField(
        "WhatsApp messages per second",
        default=80,
        help_text="Throughput of the WhatsApp number: 80 by default, 1,000 after Meta's upgrade.",
    )
    business_portfolio = models.ForeignKey(
        BusinessPortfolio,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sub_accounts",
        help_text="Without a portfolio, no messaging limit is applied.",
    )

    twilio_account_sid = models.CharField("Twilio account SID", max_length=64, blank=True)
    twilio_auth_token = models.CharField(max_length=128, blank=True)
    sms_from_number = models.CharField("SMS sender number", max_length=32, blank=True)
    # NOTE: 10/s is a placeholder; the right rate depends on the number type (a US long
    # code gets 1 message/s from Twilio, a short code 100).
    sms_messages_per_second = models.PositiveIntegerField(
        "SMS messages per second", default=10, help_text="Sends per second of the SMS sender."
    )
    # ISO 3166 alpha-2 codes the sub-account may send SMS to; empty allows every country.
    sms_countries = models.JSONField("SMS countries", default=list, blank=True)
    # US law allows marketing SMS 08:00-21:00 in the recipient's local time; a sub-account
    # may narrow the window (some states end at 20:00) but never widen it.
    sms_window_start = models.TimeField(
        "SMS window start",
        default=time(8),
        help_text="earliest local time of a US recipient for SMS; before 08:00 counts as 08:00",
    )
    sms_window_end = models.TimeField(
        "SMS window end",
        default=time(21),
        help_text="latest local time of a US recipient for SMS; after 21:00 counts as 21:00",
    )

    # Marketers: compose and watch this sub-account's campaigns in the browser UI.
    marketers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="marketer_of_sub_accounts", blank=True
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "name"], name="unique_sub_account_name"),
        ]

    def __str__(self) -> str:
        return f"{self.agency.name} / {self.name}"

    @property
    def zone(self) -> ZoneInfo | None:
        """The sub-account's time zone, or None when `timezone` is not an IANA name."""
        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return None

    @property
    def whatsapp_configured(self) -> bool:
        return bool(self.whatsapp_phone_number_id and self.whatsapp_access_token)

    @property
    def sms_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token and self.sms_from_number)

    def clean(self) -> None:
        if self.sms_window_start >= self.sms_window_end:
            raise ValidationError(
                {
                    "sms_window_end": f"The SMS window ends at {self.sms_window_end:%H:%M}, "
                    f"not after its start {self.sms_window_start:%H:%M}: set an end after "
                    "the start."
                }
            )

    def allows_sms_to(self, country: str) -> bool:
        return not self.sms_countries or country in self.sms_countries
