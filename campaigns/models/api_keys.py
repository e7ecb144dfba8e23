"""API keys of a sub-account and the idempotency records of the requests made with them.

A key is shown once, when it is created; only its SHA-256 digest is stored. The key has
high entropy (32 random bytes), so a plain digest is enough: there is nothing to guess.
The visible prefix lets a person tell keys apart in admin and in logs.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from .accounts import SubAccount

KEY_PREFIX = "sbk_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiKey(models.Model):
    sub_account = models.ForeignKey(SubAccount, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, help_text="What uses the key, e.g. 'Shopify sync'.")
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True, editable=False)
    key_digest = models.CharField("SHA-256 of the key", max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def issue(cls, sub_account: SubAccount, name: str, created_by=None) -> tuple["ApiKey", str]:
        """Create a key and return it with its plain text, which is never stored."""
        plain = KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            sub_account=sub_account,
            name=name,
            prefix=plain[:PREFIX_LENGTH],
            key_digest=digest(plain),
            created_by=created_by,
        )
        return key, plain

    def revoke(self) -> None:
        ApiKey.objects.filter(pk=self.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.refresh_from_db(fields=["revoked_at"])


class IdempotencyRecord(models.Model):
    """The first response to a creating POST sent with an Idempotency-Key header."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="idempotency")
    key = models.CharField(max_length=255)
    # SHA-256 of method, path and canonical body: a reused key with another body is a 409.
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "key"], name="unique_idempotency_key"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
