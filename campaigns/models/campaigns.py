"""Campaigns, their recipients and each recipient's decision log."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from .accounts import SubAccount
from .contacts import Contact
from .templates import Template

# Max no-delivery timeout: an SMS sent more than a day late no longer replaces a timely
# message, so a longer wait is more likely a typo than a plan.
MAX_DELIVERY_TIMEOUT_MINUTES = 24 * 60


class CampaignStatus(models.TextChoices):
    DRAFT = "draft"
    LAUNCHING = "launching"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Campaign(models.Model):
    sub_account = models.ForeignKey(SubAccount, on_delete=models.CASCADE, related_name="campaigns")
    name = models.CharField(max_length=200)
    template = models.ForeignKey(Template, on_delete=models.PROTECT, related_name="campaigns")
    # One entry per template variable, in order: "contact.<field>" or literal text.
    variables = models.JSONField(default=list, blank=True)
    # Empty means every contact of the sub-account.
    audience_tags = models.JSONField(default=list, blank=True)
    # E.164 numbers of an uploaded list; when set, only contacts with these numbers are
    # sent to. Numbers without a contact stay in the list and are reported as unknown.
    audience_phones = models.JSONField(default=list, blank=True)

    fallback_enabled = models.BooleanField(default=True)
    fallback_text = models.TextField(blank=True)
    direct_sms_for_us_marketing = models.BooleanField(
        "send US marketing straight to SMS",
        default=True,
        help_text="Meta refuses MARKETING templates to US numbers (131049), "
        "so those recipients get the SMS text without a WhatsApp attempt.",
    )
    # Off (null) by default. The value in force when a WhatsApp message is sent sets its
    # deadline, so a change applies to messages sent afterwards.
    whatsapp_delivery_timeout_minutes = models.PositiveIntegerField(
        "fall back when WhatsApp is not delivered within (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_DELIVERY_TIMEOUT_MINUTES)],
        help_text="Send the SMS text too when WhatsApp has not reported the message "
        "delivered or read this many minutes after the send. Empty: wait for WhatsApp.",
    )

    # Schedule: nothing is sent before send_at. Forms take it in the sub-account's time
    # zone; it is stored in UTC like every datetime.
    send_at = models.DateTimeField(null=True, blank=True)
    # Drip: drip_size recipients every drip_every_minutes, only on drip_weekdays (0 is
    # Monday) between drip_start_hour and drip_end_hour in the sub-account's time zone.
    drip_size = models.PositiveIntegerField(null=True, blank=True)
    drip_every_minutes = models.PositiveIntegerField(null=True, blank=True)
    drip_weekdays = models.JSONField(default=list, blank=True)
    drip_start_hour = models.PositiveSmallIntegerField(default=0)
    drip_end_hour = models.PositiveSmallIntegerField(default=24)
    # When the next drip batch may start; set by dispatch after each batch.
    next_batch_at = models.DateTimeField(null=True, blank=True)

    status = models.CharField(
        max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    # Why Switchback paused the campaign by itself (an account or sender problem), shown
    # to staff next to the status.
    status_reason = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    launched_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class RecipientStatus(models.TextChoices):
    PENDING = "pending", "waiting to send"
    WHATSAPP_SENDING = "whatsapp_sending", "sending on WhatsApp"
    WHATSAPP_SENT = "whatsapp_sent", "sent on WhatsApp"
    SMS_PENDING = "sms_pending", "SMS waiting to send"
    SMS_SENDING = "sms_sending", "sending SMS"
    SMS_SENT = "sms_sent", "SMS sent"
    DELIVERED_WHATSAPP = "delivered_whatsapp", "delivered on WhatsApp"
    DELIVERED_SMS = "delivered_sms", "delivered by SMS"
    FAILED_WHATSAPP = "failed_whatsapp", "failed on WhatsApp"
    FAILED_BOTH = "failed_both", "failed on both channels"
    SKIPPED = "skipped", "skipped"
    CANCELLED = "cancelled", "cancelled"


FINAL_STATUSES = frozenset(
    {
        RecipientStatus.DELIVERED_WHATSAPP,
        RecipientStatus.DELIVERED_SMS,
        RecipientStatus.FAILED_WHATSAPP,
        RecipientStatus.FAILED_BOTH,
        RecipientStatus.SKIPPED,
        RecipientStatus.CANCELLED,
    }
)


class Route(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp first"
    DIRECT_SMS = "direct_sms", "direct SMS"
    NONE = "none", "not sent"


class Recipient(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="recipients")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="recipients")
    phone = models.CharField(max_length=20)
    country = models.CharField(max_length=2, blank=True)
    route = models.CharField(max_length=16, choices=Route.choices, default=Route.WHATSAPP)
    status = models.CharField(
        max_length=20, choices=RecipientStatus.choices, default=RecipientStatus.PENDING
    )
    # Short machine-readable reason for the route or the final state, e.g. "131049" or
    # "sms_opt_out"; the decision log contains the full story.
    reason = models.CharField(max_length=64, blank=True)
    fallback_triggered = models.BooleanField(default=False)
    # Dispatch leaves a waiting recipient alone until then: pair rate, messaging limit,
    # quiet hours.
    send_after = models.DateTimeField(null=True, blank=True)
    # WhatsApp reported delivery after the fallback SMS had already gone out.
    delivered_both = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="unique_recipient"),
        ]
        indexes = [
            # Dispatch claims a campaign's waiting recipients in id order. Without "id" here,
            # PostgreSQL walked the primary key past every recipient already sent, which
            # took 17 ms per claim with 30,000 sent.
            models.Index(fields=["campaign", "status", "id"], name="recipient_claim_order"),
            # Reports check whether a finished campaign changed since its figures were stored.
            models.Index(fields=["campaign", "updated_at"]),
            # Admin and support look recipients up by phone number across campaigns.
            models.Index(fields=["phone"], name="recipient_phone"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} in campaign {self.campaign_id}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class Decision(models.Model):
    """One line of a recipient's decision log: what happened, which code, which rule, what
    Switchback did about it."""

    recipient = models.ForeignKey(Recipient, on_delete=models.CASCADE, related_name="decisions")
    at = models.DateTimeField(auto_now_add=True)
    event = models.CharField(max_length=200)
    code = models.CharField(max_length=32, blank=True)
    rule = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=200)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        code = f" ({self.code})" if self.code else ""
        return f"{self.event}{code}: {self.action}"
