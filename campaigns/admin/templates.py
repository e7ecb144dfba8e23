"""Admin for WhatsApp templates, with a sync from the provider."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import SubAccount, Template

from .accounts import sync_sub_accounts


@admin.register(Template)
class TemplateAdmin(AgencyScopedAdmin):
    list_display = ["name", "language", "category", "status", "sub_account", "last_event"]
    list_filter = ["category", "status", "sub_account"]
    list_select_related = ["sub_account__agency"]
    search_fields = ["name"]
    actions = ["sync_from_provider"]

    @admin.action(description="Sync the selected templates' sub-accounts from WhatsApp")
    def sync_from_provider(self, request: HttpRequest, queryset: QuerySet[Template]) -> None:
        # The sync works per sub-account (Meta lists templates per business account); the
        # selection is already scoped, so these are the staff member's own sub-accounts.
        sub_accounts = SubAccount.objects.filter(
            pk__in=queryset.values("sub_account_id")
        ).select_related("agency")
        sync_sub_accounts(self, request, sub_accounts)
