"""Delivery attempts: one per channel per recipient."""

from django.db import models


class Channel(models.TextChoices):
    WHATSAPP = "whatsapp", "WhatsApp"
    SMS = "sms", "SMS"


class AttemptStatus(models.TextChoices):
    # Claimed by a worker but not yet on the wire: a crash here sent nothing, so the
    # sweeper may release the recipient for another worker.
    QUEUED = "queued"
    # The row exists before the HTTP request, so a crash mid-request leaves a trace that
    # webhooks can complete instead of a second send.
    SENDING = "sending"
    RETRY_WAIT = "retry_wait"
    ACCEPTED = "accepted"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    # The provider may or may not have the message (timeout, crash); only a status webhook
    # can tell, and the message is never sent blindly again.
    UNKNOWN = "unknown"


class DeliveryAttempt(models.Model):
    recipient = models.ForeignKey(
        "campaigns.Recipient", on_delete=models.CASCADE, related_name="attempts"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(max_length=16, choices=AttemptStatus.choices, default="sending")
    # wamid for WhatsApp, message SID for Twilio.
    provider_message_id = models.CharField(max_length=128, blank=True, db_index=True)
    tries = models.PositiveSmallIntegerField(default=0)
    error_code = models.CharField(max_length=16, blank=True)
    error_title = models.CharField(max_length=255, blank=True)
    error_detail = models.TextField(blank=True)
    segments = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # When a WhatsApp message still without a delivered or read status falls back to SMS,
    # from the campaign's no-delivery timeout at the last request. Cleared once the
    # timeout is handled, so a set value means "still to check".
    delivery_due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # At most one message per channel per recipient, whatever the workers do.
            models.UniqueConstraint(
                fields=["recipient", "channel"], name="one_attempt_per_channel"
            ),
        ]
        indexes = [
            # Reports check whether a finished campaign changed since its figures were stored.
            models.Index(fields=["updated_at"]),
            # The admin lists attempts newest first, usually filtered by status ("failed").
            models.Index(fields=["status", "-id"], name="attempt_status_newest"),
            # The no-delivery timeout looks for overdue attempts across all campaigns.
            models.Index(
                fields=["delivery_due_at"],
                name="attempt_delivery_due",
                condition=models.Q(delivery_due_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} attempt {self.pk} ({self.status})"
