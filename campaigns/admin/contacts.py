"""Admin for contacts, searchable by phone number in any common format."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import Contact

from .phone_search import phone_filter


@admin.register(Contact)
class ContactAdmin(AgencyScopedAdmin):
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
    list_filter = ["country", "line_type", "sub_account"]
    list_select_related = ["sub_account__agency"]
    search_fields = ["first_name", "last_name", "email"]
    search_help_text = "Name, email, or phone number in any format (+44 7700 900123, 0044…)."

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Contact], search_term: str
    ) -> tuple[QuerySet[Contact], bool]:
        by_phone = phone_filter(search_term)
        if by_phone is not None:
            return queryset.filter(by_phone), False
        return super().get_search_results(request, queryset, search_term)
