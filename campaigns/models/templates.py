"""WhatsApp message templates of a sub-account, as approved (or not) by Meta."""

import re

from django.db import models

from .accounts import SubAccount

VARIABLE = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")


class TemplateCategory(models.TextChoices):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class TemplateStatus(models.TextChoices):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"


class Template(models.Model):
    sub_account = models.ForeignKey(SubAccount, on_delete=models.CASCADE, related_name="templates")
    provider_id = models.CharField(max_length=64, blank=True, db_index=True)
    name = models.CharField(max_length=512)
    language = models.CharField(max_length=16, default="en_US")
    category = models.CharField(max_length=20, choices=TemplateCategory.choices)
    status = models.CharField(
        max_length=20, choices=TemplateStatus.choices, default=TemplateStatus.APPROVED
    )
    body = models.TextField()
    last_event = models.CharField(max_length=64, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(
                fields=["sub_account", "name", "language"], name="unique_template_language"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @property
    def variables(self) -> list[str]:
        return VARIABLE.findall(self.body)

    @property
    def sendable(self) -> bool:
        return self.status == TemplateStatus.APPROVED
