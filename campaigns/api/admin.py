"""Admin for API keys and outbound webhooks.

A key is created by saving the add form; its plain text appears once, in the success
message, and is never stored.
"""

import logging
import secrets

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import ApiKey
from campaigns.models.api_keys import KEY_PREFIX, PREFIX_LENGTH, digest
from messaging import webhook_targets
from messaging.models import WebhookDelivery, WebhookEndpoint

logger = logging.getLogger(__name__)


class SubAccountScoped(AgencyScopedAdmin):
    agency_path = "sub_account__agency"


@admin.register(ApiKey)
class ApiKeyAdmin(SubAccountScoped):
    list_display = ["name", "prefix", "sub_account", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    fields = [
        "sub_account",
        "name",
        "prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "sub_account"]
        return self.readonly_fields

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        plain = KEY_PREFIX + secrets.token_urlsafe(32)
        obj.prefix = plain[:PREFIX_LENGTH]
        obj.key_digest = digest(plain)
        obj.created_by = request.user
        super().save_model(request, obj, form, change)
        logger.info("API key %s created in admin by user %s", obj.pk, request.user.pk)
        messages.warning(
            request,
            f"The API key is {plain} — copy it now: it is not stored and cannot be shown again.",
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
            logger.info("API key %s revoked in admin by user %s", key.pk, request.user.pk)
        self.message_user(request, "Revoked; requests with those keys now get 401.")


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    DELIVERY_FIELDS = (
        "event",
        "event_id",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "created_at",
    )
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS
    extra = 0
    max_num = 0
    show_change_link = True
    ordering = ["-created_at"]


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ["sub_account", "url", "events", "active"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            webhook_targets.check_url(url)
        except webhook_targets.UnsafeTarget as error:
            raise forms.ValidationError(str(error)) from None
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SubAccountScoped):
    form = WebhookEndpointForm
    list_display = ["url", "sub_account", "active", "created_at"]
    inlines = [DeliveryInline]
    list_filter = ["active"]
    readonly_fields = ["secret", "created_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SubAccountScoped):
    agency_path = "endpoint__sub_account__agency"
    list_display = ["event", "endpoint", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]
    search_fields = ["event_id"]
    readonly_fields = [
        "endpoint",
        "event",
        "event_id",
        "payload",
        "status",
        "attempts",
        "response_status",
        "last_error",
        "created_at",
        "last_attempt_at",
        "delivered_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
