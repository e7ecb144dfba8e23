"""Contacts of a sub-account, keyed by E.164 number, with per-channel consent."""

from django.db import models
from django.utils import timezone

from .accounts import SubAccount


class LineType(models.TextChoices):
    UNKNOWN = "unknown"
    MOBILE = "mobile"
    LANDLINE = "landline"


class Contact(models.Model):
    sub_account = models.ForeignKey(SubAccount, on_delete=models.CASCADE, related_name="contacts")
    phone = models.CharField(max_length=20, help_text="E.164, for example +14155550123")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    email = models.CharField(max_length=254, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    tags = models.JSONField(default=list, blank=True)

    # Consent is stored as opt-outs: an imported contact counts as opted in.
    whatsapp_opt_out_at = models.DateTimeField("WhatsApp opt-out at", null=True, blank=True)
    whatsapp_opt_out_source = models.CharField("WhatsApp opt-out source", max_length=64, blank=True)
    sms_opt_out_at = models.DateTimeField("SMS opt-out at", null=True, blank=True)
    sms_opt_out_source = models.CharField("SMS opt-out source", max_length=64, blank=True)

    # Learned from provider errors: 131026 means WhatsApp cannot reach the number for now,
    # 30006/21614/21635 mean SMS never will.
    whatsapp_unreachable_at = models.DateTimeField("WhatsApp unreachable at", null=True, blank=True)
    line_type = models.CharField(max_length=16, choices=LineType.choices, default=LineType.UNKNOWN)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phone"]
        constraints = [
            models.UniqueConstraint(fields=["sub_account", "phone"], name="unique_contact_phone"),
        ]
        # The unique constraint leads with sub_account; admin search by number spans them.
        indexes = [models.Index(fields=["phone"], name="contact_phone")]

    def __str__(self) -> str:
        return self.phone

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def opt_out(self, channel: str, source: str) -> None:
        setattr(self, f"{channel}_opt_out_at", timezone.now())
        setattr(self, f"{channel}_opt_out_source", source)

    def opt_in(self, channel: str) -> None:
        setattr(self, f"{channel}_opt_out_at", None)
        setattr(self, f"{channel}_opt_out_source", "")
