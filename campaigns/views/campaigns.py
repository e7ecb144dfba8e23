"""Campaign pages: list, live progress, controls, delivery log, CSV export."""

import csv
import logging
from collections import Counter
from collections.abc import Iterator

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from campaigns import controls, reasons
from campaigns.models import (
    FINAL_STATUSES,
    Campaign,
    CampaignStatus,
    Decision,
    Recipient,
    RecipientStatus,
)
from campaigns.templatetags.switchback_ui import state_words
from messaging.models import Channel, DeliveryAttempt
from reports import billing
from reports.figures import campaign_figures

from .scope import current_sub_account, scoped_object
from .spend import spend_lines
from .timing import schedule_words

logger = logging.getLogger(__name__)

PAGE_SIZE = 50
# Campaign states in which recipients can still change, so the page keeps polling.
LIVE_STATUSES = {CampaignStatus.LAUNCHING, CampaignStatus.RUNNING, CampaignStatus.PAUSED}
OUTCOME_COLOURS = {
    RecipientStatus.DELIVERED_WHATSAPP: "#1f9d55",
    RecipientStatus.DELIVERED_SMS: "#2b6cb0",
    RecipientStatus.FAILED_WHATSAPP: "#c53030",
    RecipientStatus.FAILED_BOTH: "#822727",
    RecipientStatus.SKIPPED: "#a0aec0",
    RecipientStatus.CANCELLED: "#4a5568",
}
SMS_FILTERS: dict[str, tuple[str, dict[str, object]]] = {
    "fallback": ("fallback SMS sent", {"fallback_triggered": True}),
    "direct": ("direct SMS", {"route": "direct_sms"}),
    "none": ("no SMS", {"fallback_triggered": False, "route": "whatsapp"}),
}
ACTIONS = {"pause": controls.pause, "resume": controls.resume, "cancel": controls.cancel}


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    sub_account = current_sub_account(request)
    campaigns = (
        Campaign.objects.filter(sub_account=sub_account)
        .select_related("template")
        .annotate(recipient_count=Count("recipients"))
    )
    return render(request, "campaigns/campaigns/list.html", {"campaigns": campaigns})


def progress(campaign: Campaign) -> dict[str, object]:
    by_status = Counter(
        dict(
            Recipient.objects.filter(campaign=campaign)
            .values_list("status")
            .annotate(n=Count("id"))
            .values_list("status", "n")
        )
    )
    total = sum(by_status.values())
    final = sum(n for status, n in by_status.items() if status in FINAL_STATUSES)
    percent = 100 if campaign.status == CampaignStatus.COMPLETED else 0
    if total and campaign.status != CampaignStatus.COMPLETED:
        percent = int(final * 100 / total)
    outcomes = [
        {"label": state_words(status), "count": by_status[status], "colour": colour}
        for status, colour in OUTCOME_COLOURS.items()
    ]
    return {
        "campaign": campaign,
        "total": total,
        "final": final,
        "percent": percent,
        "by_status": [(state_words(s), n) for s, n in sorted(by_status.items())],
        "outcomes": outcomes,
        "live": campaign.status in LIVE_STATUSES,
        "fallbacks": Recipient.objects.filter(campaign=campaign, fallback_triggered=True).count(),
    }


@login_required
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = scoped_object(
        request, Campaign.objects.select_related("template", "sub_account__agency"), pk=pk
    )
    if campaign.status == CampaignStatus.DRAFT:
        return redirect("campaigns:campaign_review", pk=campaign.pk)
    context = {**progress(campaign), **spend(campaign), "schedule": schedule_words(campaign)}
    return render(request, "campaigns/campaigns/detail.html", context)


def spend(campaign: Campaign) -> dict[str, object]:
    estimated = spend_lines(billing.estimate(campaign))
    actual = spend_lines(campaign_figures(campaign).total.spend)
    return {
        "campaign": campaign,
        "spend_rows": list(zip(estimated, actual, strict=True)),
        "live": campaign.status in LIVE_STATUSES,
    }


@login_required
def campaign_spend(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx target: estimate and actual spend, polled slower than progress while live."""
    campaign = scoped_object(
        request, Campaign.objects.select_related("template", "sub_account__agency"), pk=pk
    )
    return render(request, "campaigns/campaigns/_spend.html", spend(campaign))


@login_required
def campaign_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx polling target: the progress bar, counts per state and chart data."""
    campaign = scoped_object(request, Campaign.objects.select_related("template"), pk=pk)
    context = progress(campaign)
    response = render(request, "campaigns/campaigns/_progress.html", context)
    if not context["live"]:
        # The last poll: the spend section refreshes once more to show the final figures.
        response = trigger_client_event(response, "campaign-finished")
    return response


@login_required
@require_POST
def campaign_control(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(f"Unknown action {action!r}; use pause, resume or cancel.")
    campaign = scoped_object(request, Campaign.objects.all(), pk=pk)
    try:
        ACTIONS[action](campaign)
    except controls.ControlError as error:
        messages.error(request, str(error))
    else:
        logger.info("campaign %s: %s by user %s", campaign.pk, action, request.user.pk)
        messages.success(request, f"{campaign} is now {campaign.status}.")
    return redirect("campaigns:campaign_detail", pk=campaign.pk)


def filtered_recipients(campaign: Campaign, params) -> QuerySet[Recipient]:
    recipients = Recipient.objects.filter(campaign=campaign)
    if params.get("status"):
        recipients = recipients.filter(status=params["status"])
    if params.get("reason"):
        recipients = recipients.filter(reason=params["reason"])
    if params.get("country"):
        recipients = recipients.filter(country=params["country"])
    if params.get("sms") in SMS_FILTERS:
        recipients = recipients.filter(**SMS_FILTERS[params["sms"]][1])
    return recipients.order_by("id")


def with_history(recipients: QuerySet[Recipient]) -> QuerySet[Recipient]:
    return recipients.prefetch_related(
        Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("id")),
        Prefetch("decisions", queryset=Decision.objects.order_by("at", "id")),
    )


class LogRow:
    """One recipient with its WhatsApp and SMS attempts side by side."""

    def __init__(self, recipient: Recipient) -> None:
        self.recipient = recipient
        attempts = {attempt.channel: attempt for attempt in recipient.attempts.all()}
        self.whatsapp = attempts.get(Channel.WHATSAPP)
        self.sms = attempts.get(Channel.SMS)
        self.reason_words = reasons.describe(recipient.reason) if recipient.reason else ""
        self.decisions = list(recipient.decisions.all())


def _reason_label(code: str) -> str:
    # Provider codes are described with their code in front already ("131026: ...").
    words = reasons.describe(code)
    return words if words.startswith(code) else f"{code}: {words}"


def log_filters(campaign: Campaign) -> dict[str, list]:
    recipients = Recipient.objects.filter(campaign=campaign)
    reason_codes = sorted(set(recipients.exclude(reason="").values_list("reason", flat=True)))
    countries = sorted(set(recipients.exclude(country="").values_list("country", flat=True)))
    return {
        "statuses": [(s, state_words(s)) for s in RecipientStatus.values],
        "reasons": [(code, _reason_label(code)) for code in reason_codes],
        "countries": countries,
        "sms_filters": [(key, label) for key, (label, _) in SMS_FILTERS.items()],
    }


@login_required
def delivery_log(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = scoped_object(request, Campaign.objects.all(), pk=pk)
    recipients = with_history(filtered_recipients(campaign, request.GET))
    page = Paginator(recipients, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "campaign": campaign,
        "page": page,
        "rows": [LogRow(recipient) for recipient in page],
        "filters": log_filters(campaign),
        "selected": request.GET,
        "query": query.urlencode(),
    }
    return render(request, "campaigns/campaigns/log.html", context)


EXPORT_COLUMNS = [
    "phone",
    "country",
    "route",
    "final_state",
    "reason",
    "reason_in_words",
    "fallback_triggered",
    "whatsapp_status",
    "whatsapp_error_code",
    "whatsapp_error_title",
    "sms_status",
    "sms_error_code",
    "sms_error_title",
    "sms_segments",
    "finished_at",
]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_rows(recipients: QuerySet[Recipient]) -> Iterator[list[object]]:
    yield list(EXPORT_COLUMNS)
    paginator = Paginator(with_history(recipients), 1000)
    for number in paginator.page_range:
        for recipient in paginator.page(number):
            row = LogRow(recipient)
            whatsapp, sms = row.whatsapp, row.sms
            yield [
                recipient.phone,
                recipient.country,
                recipient.route,
                recipient.status,
                recipient.reason,
                row.reason_words,
                recipient.fallback_triggered,
                whatsapp.status if whatsapp else "",
                whatsapp.error_code if whatsapp else "",
                whatsapp.error_title if whatsapp else "",
                sms.status if sms else "",
                sms.error_code if sms else "",
                sms.error_title if sms else "",
                sms.segments if sms and sms.segments is not None else "",
                recipient.finished_at.isoformat() if recipient.finished_at else "",
            ]


@login_required
def delivery_log_csv(request: HttpRequest, pk: int) -> StreamingHttpResponse:
    campaign = scoped_object(request, Campaign.objects.all(), pk=pk)
    writer = csv.writer(_Echo())
    rows = export_rows(filtered_recipients(campaign, request.GET))
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="campaign-{campaign.pk}-log.csv"'
    logger.info("campaign %s delivery log exported by user %s", campaign.pk, request.user.pk)
    return response
