"""Admin for delivery attempts and provider events: read-only records of what providers did."""

import logging

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from campaigns.admin.phone_search import phone_filter
from campaigns.admin.read_only import ReadOnlyAdminMixin
from campaigns.admin_paging import CappedCountPaginator
from campaigns.admin_scoping import AgencyScopedAdmin

from . import events
from .models import DeliveryAttempt, PolicyOverride, ProviderEvent
from .policy import SMS_RULES, WHATSAPP_RULES

logger = logging.getLogger(__name__)

# Replaying runs inside the request. The limit is an estimate meant to keep one click well
# under a web worker's timeout; it has not been measured.
MAX_REPLAY = 200
# Longer digit strings do not fit the bigint primary key of a delivery attempt.
MAX_ID_DIGITS = 18


def describe_error(channel: str, code: str) -> str:
    """Return the policy table's words for a provider error code, or "" when there is none."""
    if not code:
        return ""
    rule = (WHATSAPP_RULES if channel == "whatsapp" else SMS_RULES).get(code)
    if rule is None:
        return "code not in Switchback's table"
    # The rule's action is what the code usually leads to. The recipient's decision log
    # records what happened, for instance no fallback to a landline.
    return f"{rule.description} (rule: {rule.action})"


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdminMixin, AgencyScopedAdmin):
    agency_path = "recipient__campaign__sub_account__agency"
    campaign_path = "recipient__campaign"
    list_display = [
        "id",
        "recipient",
        "campaign",
        "channel",
        "status",
        "error_code",
        "error_in_words",
        "provider_message_id",
        "tries",
        "created_at",
    ]
    list_filter = ["channel", "status"]
    list_select_related = ["recipient__campaign"]
    search_fields = ["=provider_message_id"]
    search_help_text = "Recipient phone number in any format, or the exact provider message id."
    paginator = CappedCountPaginator
    show_full_result_count = False
    ordering = ["-id"]

    @admin.display(description="campaign")
    def campaign(self, attempt: DeliveryAttempt) -> str:
        return attempt.recipient.campaign.name

    @admin.display(description="error")
    def error_in_words(self, attempt: DeliveryAttempt) -> str:
        return describe_error(attempt.channel, attempt.error_code)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[DeliveryAttempt], search_term: str
    ) -> tuple[QuerySet[DeliveryAttempt], bool]:
        by_phone = phone_filter(search_term, "recipient__phone")
        if by_phone is not None:
            return queryset.filter(by_phone), False
        return super().get_search_results(request, queryset, search_term)


class EventKindFilter(admin.SimpleListFilter):
    """Groups of ProviderEvent.kind, listed without reading the table.

    A filter on the plain field would run SELECT DISTINCT over millions of events on every
    page, and would list each Meta field combination and inbound keyword on its own.
    """

    title = "kind"
    parameter_name = "kind"
    # A Meta event's kind lists the fields of its changes, sorted and joined by commas.
    # It stays empty until the event is processed.
    KINDS = {
        "messages": ("WhatsApp messages and statuses", Q(kind__contains="messages")),
        "templates": ("WhatsApp template updates", Q(kind__contains="template")),
        "preferences": ("WhatsApp marketing preferences", Q(kind__contains="user_preferences")),
        "sms_status": ("SMS status callbacks", Q(kind__startswith="status")),
        "inbound_sms": ("Inbound SMS", Q(kind__startswith=events.INBOUND_SMS)),
        "none": ("No kind (not processed yet, or not JSON)", Q(kind="")),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(value, label) for value, (label, _) in self.KINDS.items()]

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ProviderEvent]
    ) -> QuerySet[ProviderEvent]:
        chosen = self.KINDS.get(self.value() or "")
        return queryset if chosen is None else queryset.filter(chosen[1])


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyAdminMixin, AgencyScopedAdmin):
    # Events that name no attempt (template status changes, unmatched statuses, Meta
    # events with statuses of several messages) have no agency, so only superusers see them.
    agency_path = "attempt__recipient__campaign__sub_account__agency"
    campaign_path = "attempt__recipient__campaign"
    list_display = ["id", "provider", "kind", "attempt", "received_at", "processed_at", "error"]
    list_filter = ["provider", EventKindFilter]
    list_select_related = ["attempt"]
    search_fields = ["attempt__provider_message_id__exact"]
    search_help_text = (
        "Delivery attempt id, recipient phone number in any format, or the exact provider "
        "message id (wamid or Twilio SID). Finds only events linked to an attempt."
    )
    paginator = CappedCountPaginator
    show_full_result_count = False
    actions = ["replay"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ProviderEvent], search_term: str
    ) -> tuple[QuerySet[ProviderEvent], bool]:
        term = search_term.strip()
        by_phone = phone_filter(term, "attempt__recipient__phone")
        # A long digit string may be an attempt id or a phone number: both match.
        if term.isdigit() and len(term) <= MAX_ID_DIGITS:
            by_id = Q(attempt_id=int(term))
            return queryset.filter(by_id if by_phone is None else by_id | by_phone), False
        if by_phone is not None:
            return queryset.filter(by_phone), False
        return super().get_search_results(request, queryset, search_term)

    @admin.action(description="Replay the selected events")
    def replay(self, request: HttpRequest, queryset: QuerySet[ProviderEvent]) -> None:
        chosen = list(queryset.values_list("pk", flat=True)[: MAX_REPLAY + 1])
        if len(chosen) > MAX_REPLAY:
            self.message_user(
                request,
                f"Select at most {MAX_REPLAY} events to replay at once; nothing was replayed.",
                messages.ERROR,
            )
            return
        for pk in chosen:
            events.process_event(pk)
            logger.info("provider event %s replayed by user %s", pk, request.user.pk)
        with_problems = ProviderEvent.objects.filter(pk__in=chosen, error__gt="").count()
        level = messages.WARNING if with_problems else messages.SUCCESS
        self.message_user(
            request,
            f"{len(chosen)} events replayed; {with_problems} left problems in their error column.",
            level,
        )


@admin.register(PolicyOverride)
class PolicyOverrideAdmin(AgencyScopedAdmin):
    agency_path = "sub_account__agency"
    list_display = ["sub_account", "channel", "code", "action", "halt", "note", "updated_at"]
    list_filter = ["channel", "action"]
    list_select_related = ["sub_account__agency"]
    search_fields = ["code", "sub_account__name"]
