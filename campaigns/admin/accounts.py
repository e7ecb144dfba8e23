"""Admin for agencies and sub-accounts, with the sub-account's sender settings."""

import logging
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.views.decorators.debug import sensitive_post_parameters

from campaigns import roles, template_sync
from campaigns.admin_scoping import AgencyScopedAdmin
from campaigns.models import Agency, SubAccount
from messaging.providers import ProviderError, ProviderUnreachable

from . import connection
from .sender_settings import SECRET_FIELDS, SubAccountForm, clear_field, secret_state

logger = logging.getLogger(__name__)


class AgencyForm(forms.ModelForm):
    class Meta:
        model = Agency
        fields = ["name", "markup", "staff"]

    def clean_staff(self) -> Any:
        staff = self.cleaned_data["staff"]
        # A staff member belongs to one agency, so every admin page has one agency to scope to.
        elsewhere = (
            Agency.staff.through.objects.filter(user__in=staff)
            .exclude(agency_id=self.instance.pk)
            .select_related("user", "agency")
        )
        problems = [
            f"{link.user.get_username()} is already staff of {link.agency.name}"
            for link in elsewhere
        ]
        if problems:
            raise forms.ValidationError(
                "A user can be staff of one agency only: %(problems)s. "
                "Remove them from that agency first.",
                params={"problems": "; ".join(problems)},
                code="staff_of_other_agency",
            )
        return staff


@admin.register(Agency)
class AgencyAdmin(AgencyScopedAdmin):
    agency_path = "pk"
    form = AgencyForm
    list_display = ["name", "markup", "created_at", "roll_up"]
    search_fields = ["name"]
    filter_horizontal = ["staff"]

    @admin.display(description="report")
    def roll_up(self, agency: Agency) -> str:
        url = reverse("reports:report", args=["agency", agency.pk])
        return format_html('<a href="{}">fallback and spend roll-up</a>', url)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        add_to_role(form.instance.staff.all(), roles.AGENCY_STAFF)


@admin.register(SubAccount)
class SubAccountAdmin(AgencyScopedAdmin):
    agency_path = "agency"
    form = SubAccountForm
    list_display = [
        "name",
        "agency",
        "whatsapp_phone_number_id",
        "whatsapp_token_state",
        "sms_from_number",
        "twilio_token_state",
        "timezone",
    ]
    list_filter = ["agency"]
    list_select_related = ["agency"]
    search_fields = ["name", "agency__name"]
    filter_horizontal = ["marketers"]
    readonly_fields = ["whatsapp_token_state", "twilio_token_state"]
    actions = ["test_connection", "sync_templates"]

    # The 500 email to ADMINS lists POST data; the typed-in tokens must not be in it.
    @method_decorator(sensitive_post_parameters(*SECRET_FIELDS))
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return super().changeform_view(request, *args, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: SubAccount | None = None) -> Any:
        # Secret inputs appear only to users who may change them; a view-only page would
        # otherwise print the stored value as read-only text.
        editable = self.has_change_permission(request, obj) if obj else True
        whatsapp = ["whatsapp_phone_number_id", "whatsapp_business_account_id"]
        whatsapp += ["whatsapp_display_number", "whatsapp_token_state"]
        sms = ["twilio_account_sid", "sms_from_number", "sms_countries", "twilio_token_state"]
        if editable:
            whatsapp += ["whatsapp_access_token", clear_field("whatsapp_access_token")]
            sms += ["twilio_auth_token", clear_field("twilio_auth_token")]
        return [
            (None, {"fields": ["agency", "name", "timezone", "marketers"]}),
            ("WhatsApp sender", {"fields": whatsapp}),
            ("SMS sender (Twilio)", {"fields": sms}),
        ]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        # The clear boxes are form-only fields, so Django must not look them up on the model.
        names = kwargs.get("fields") or flatten_fieldsets(self.get_fieldsets(request, obj))
        kwargs["fields"] = [name for name in names if not name.startswith("clear_")]
        return super().get_form(request, obj, change, **kwargs)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        add_to_role(form.instance.marketers.all(), roles.MARKETER)

    @admin.display(description="WhatsApp token")
    def whatsapp_token_state(self, sub_account: SubAccount) -> str:
        return secret_state(sub_account, "whatsapp_access_token")

    @admin.display(description="Twilio token")
    def twilio_token_state(self, sub_account: SubAccount) -> str:
        return secret_state(sub_account, "twilio_auth_token")

    @admin.action(description="Test the connection to WhatsApp and Twilio")
    def test_connection(self, request: HttpRequest, queryset: QuerySet[SubAccount]) -> None:
        for sub_account in queryset:
            for check in (connection.check_whatsapp, connection.check_twilio):
                result = check(sub_account)
                level = messages.SUCCESS if result.ok else messages.ERROR
                self.message_user(request, f"{sub_account}: {result.message}", level)

    @admin.action(description="Sync WhatsApp templates from the provider")
    def sync_templates(self, request: HttpRequest, queryset: QuerySet[SubAccount]) -> None:
        sync_sub_accounts(self, request, queryset)


def add_to_role(users: QuerySet[Any], role: str) -> None:
    """Put users linked to an agency or sub-account into the group that grants the role.

    Unlinking leaves the group alone: the user may hold the role elsewhere, and without a
    link the scoped pages show them nothing anyway.
    """
    group = Group.objects.filter(name=role).first()
    if group is None:
        logger.error(
            "group %r not found, so users %s keep their groups; run `manage.py migrate`",
            role,
            [user.pk for user in users],
        )
        return
    group.user_set.add(*users)


def sync_sub_accounts(
    model_admin: admin.ModelAdmin, request: HttpRequest, sub_accounts: QuerySet[SubAccount]
) -> None:
    """Run the template sync for each sub-account and report each outcome as a message."""
    for sub_account in sub_accounts:
        if not sub_account.whatsapp_business_account_id or not sub_account.whatsapp_access_token:
            model_admin.message_user(
                request,
                f"{sub_account}: no WhatsApp business account id or access token; "
                "set both in the sub-account's sender settings.",
                messages.ERROR,
            )
            continue
        try:
            count = template_sync.sync_templates(sub_account)
        except ProviderError as exc:
            logger.warning("template sync for sub-account %s rejected: %s", sub_account.pk, exc)
            model_admin.message_user(
                request, f"{sub_account}: WhatsApp rejected the request ({exc})", messages.ERROR
            )
        except ProviderUnreachable as exc:
            logger.warning("template sync for sub-account %s failed: %s", sub_account.pk, exc)
            model_admin.message_user(request, f"{sub_account}: {exc}", messages.ERROR)
        else:
            model_admin.message_user(
                request, f"{sub_account}: {count} templates synced from WhatsApp", messages.SUCCESS
            )
