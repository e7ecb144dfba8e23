"""A CSV contact import run as a background job, with its outcome and row errors."""

from django.db import models

from .accounts import SubAccount


class ImportStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ContactImport(models.Model):
    sub_account = models.ForeignKey(
        SubAccount, on_delete=models.CASCADE, related_name="contact_imports"
    )
    file_name = models.CharField(max_length=255, blank=True)
    # The uploaded bytes, kept until the job has read them.
    content = models.BinaryField(blank=True)
    default_region = models.CharField(max_length=2, blank=True)
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    whatsapp_opt_outs = models.PositiveIntegerField(default=0)
    sms_opt_outs = models.PositiveIntegerField(default=0)
    # One entry per rejected or duplicate row: row number, column, value, reason.
    row_errors = models.JSONField(default=list, blank=True)
    # Header names that match no contact field, so their values were not imported.
    ignored_columns = models.JSONField(default=list, blank=True)
    # Why the whole file was refused (ImportFileError), with the fix.
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"
