from django.contrib import admin

from .models import Agency, Campaign, Contact, Decision, Recipient, SubAccount, Template


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "markup", "created_at"]
    search_fields = ["name"]


@admin.register(SubAccount)
class SubAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "whatsapp_phone_number_id", "sms_from_number", "timezone"]
    list_filter = ["agency"]
    list_select_related = ["agency"]
    search_fields = ["name", "agency__name"]


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "phone",
        "first_name",
        "last_name",
        "country",
        "sub_account",
        "whatsapp_opt_out_at",
        "sms_opt_out_at",
        "line_type",
    ]
    list_filter = ["country", "line_type", "sub_account__agency"]
    list_select_related = ["sub_account__agency"]
    search_fields = ["phone", "first_name", "last_name", "email"]


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "language", "category", "status", "sub_account", "last_event"]
    list_filter = ["category", "status"]
    list_select_related = ["sub_account__agency"]
    search_fields = ["name"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "sub_account", "template", "status", "launched_at", "finished_at"]
    list_filter = ["status", "sub_account__agency"]
    list_select_related = ["sub_account__agency", "template"]
    search_fields = ["name"]


class DecisionInline(admin.TabularInline):
    model = Decision
    extra = 0
    can_delete = False
    readonly_fields = ["at", "event", "code", "rule", "action"]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = [
        "phone",
        "campaign",
        "route",
        "status",
        "reason",
        "fallback_triggered",
        "delivered_both",
    ]
    list_filter = ["status", "route", "fallback_triggered"]
    list_select_related = ["campaign"]
    search_fields = ["phone"]
    raw_id_fields = ["campaign", "contact"]
    inlines = [DecisionInline]
