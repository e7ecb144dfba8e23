from django.contrib import admin

from .models import DeliveryAttempt, PolicyOverride, ProviderEvent


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "recipient",
        "channel",
        "status",
        "error_code",
        "error_title",
        "provider_message_id",
        "tries",
        "created_at",
    ]
    list_filter = ["channel", "status"]
    list_select_related = ["recipient"]
    search_fields = ["provider_message_id", "recipient__phone"]
    raw_id_fields = ["recipient"]


@admin.register(ProviderEvent)
class ProviderEventAdmin(admin.ModelAdmin):
    list_display = ["id", "provider", "kind", "received_at", "processed_at", "error"]
    list_filter = ["provider", "kind"]
    raw_id_fields = ["attempt"]


@admin.register(PolicyOverride)
class PolicyOverrideAdmin(admin.ModelAdmin):
    list_display = ["sub_account", "channel", "code", "action", "halt", "note", "updated_at"]
    list_filter = ["channel", "action"]
    search_fields = ["code", "sub_account__name"]
    raw_id_fields = ["sub_account"]
