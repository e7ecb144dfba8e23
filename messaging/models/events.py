"""Provider webhooks exactly as received, kept for audit and replay."""

from django.db import models

from .attempts import DeliveryAttempt


class Provider(models.TextChoices):
    META = "meta", "Meta WhatsApp"
    TWILIO = "twilio", "Twilio"


class ProviderEvent(models.Model):
    """A webhook exactly as received, kept for audit and replay."""

    provider = models.CharField(max_length=16, choices=Provider.choices)
    kind = models.CharField(max_length=64, blank=True)
    # Twilio status callbacks name the attempt in their URL. A Meta event is linked when
    # it is applied, if all its statuses belong to one attempt.
    attempt = models.ForeignKey(
        DeliveryAttempt, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    body = models.TextField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at"]
        # The admin lists events newest first; without it every page sorts the whole table.
        indexes = [
            models.Index(fields=["-received_at"], name="event_newest"),
            # The event drain reads the unprocessed ones, a few among millions.
            models.Index(
                fields=["id"], condition=models.Q(processed_at__isnull=True), name="event_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()} {self.kind or 'event'} {self.pk}"
