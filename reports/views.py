"""Report pages: a campaign, a sub-account or an agency roll-up, with drill-down to the
recipients behind every figure and CSV export of every table.

Marketers reach the campaigns and sub-accounts of `sub_accounts_for`; agency roll-ups
are for the staff of the agency (`agencies_for`), linked from the admin.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    StreamingHttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render

from campaigns import reasons
from campaigns.access import agencies_for, sub_accounts_for
from campaigns.models import Agency, Campaign, Recipient, SubAccount

from . import billing
from .billing import RateCard
from .export import recipients_csv, report_csv
from .figures import (
    EMPTY_KEY_LABELS,
    FIGURE_BY_NAME,
    FIGURES,
    GROUPINGS,
    Report,
    build_report,
    recipients_behind,
)

logger = logging.getLogger(__name__)

SCOPES = ("campaign", "sub_account", "agency")
PAGE_SIZE = 100


class BadRequest(ValueError):
    pass


@login_required
def index(request: HttpRequest) -> HttpResponse:
    sub_accounts = sub_accounts_for(request.user).select_related("agency")
    context = {"sub_accounts": sub_accounts, "agencies": agencies_for(request.user)}
    return render(request, "reports/index.html", context)


@login_required
def agencies(request: HttpRequest) -> HttpResponse:
    return render(request, "reports/agencies.html", {"agencies": agencies_for(request.user)})


@login_required
def report(request: HttpRequest, scope: str, pk: int) -> HttpResponseBase:
    owner, campaigns, card = _scope(request, scope, pk)
    try:
        by, start, end = _options(request)
    except BadRequest as error:
        return HttpResponseBadRequest(str(error))
    result = build_report(campaigns, card, by, start, end)
    if request.GET.get("format") == "csv":
        return _csv_download(report_csv(result), f"{scope}-{pk}-report.csv")

    context = {
        "scope": scope,
        "owner": owner,
        "report": result,
        "table": _table(result, _labels(result.by, campaigns)),
        "figures": FIGURES,
        "groupings": list(GROUPINGS),
        "campaigns": campaigns,
        "charts": _chart_data(campaigns, card, result, start, end),
        "estimate": billing.estimate(owner) if scope == "campaign" else None,
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/report.html", context)


@login_required
def recipients(request: HttpRequest, scope: str, pk: int) -> HttpResponseBase:
    owner, campaigns, _ = _scope(request, scope, pk)
    try:
        by, start, end = _options(request)
        found = recipients_behind(
            Recipient.objects.filter(campaign__in=campaigns),
            request.GET.get("figure", "targeted"),
            by=by,
            key=_key(by, request.GET.get("key")),
            start=start,
            end=end,
        )
    except (BadRequest, ValueError) as error:
        return HttpResponseBadRequest(str(error))
    if request.GET.get("format") == "csv":
        name = f"{scope}-{pk}-{request.GET.get('figure', 'targeted')}.csv"
        return _csv_download(recipients_csv(found), name)

    page = Paginator(found.order_by("id"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "scope": scope,
        "owner": owner,
        "page": page,
        "query": request.GET.urlencode(),
        "figure": FIGURE_BY_NAME[request.GET.get("figure", "targeted")],
        "group": _group_label(by, request.GET.get("key")),
    }
    return render(request, "reports/recipients.html", context)


def _group_label(by: str | None, key: str | None) -> str:
    """Return the group a drill-down is limited to, in words ("" for none)."""
    if by is None:
        return ""
    if not key:
        return f"{by}: {EMPTY_KEY_LABELS.get(by, 'none')}"
    return f"{by}: {key}"


def _scope(request: HttpRequest, scope: str, pk: int) -> tuple[Any, QuerySet[Campaign], RateCard]:
    """Return the report's owner, its campaigns and rate card, or 404 outside the user's
    agencies and sub-accounts."""
    if scope not in SCOPES:
        raise Http404(f"No report scope {scope!r}; use one of {', '.join(SCOPES)}.")
    allowed = sub_accounts_for(request.user)
    if scope == "campaign":
        campaign = get_object_or_404(
            Campaign.objects.select_related("sub_account__agency", "template"),
            pk=pk,
            sub_account__in=allowed,
        )
        campaigns = Campaign.objects.filter(pk=pk)
        return campaign, campaigns, RateCard(campaign.sub_account.agency)
    if scope == "sub_account":
        sub_account: SubAccount = get_object_or_404(allowed.select_related("agency"), pk=pk)
        campaigns = Campaign.objects.filter(sub_account=sub_account)
        return sub_account, campaigns, RateCard(sub_account.agency)
    agency: Agency = get_object_or_404(agencies_for(request.user), pk=pk)
    return agency, Campaign.objects.filter(sub_account__agency=agency), RateCard(agency)


def _options(request: HttpRequest) -> tuple[str | None, datetime.date | None, datetime.date | None]:
    by = request.GET.get("by") or None
    if by is not None and by not in GROUPINGS:
        raise BadRequest(f"Grouping {by!r} is not one of {', '.join(GROUPINGS)}.")
    return by, _date(request, "start"), _date(request, "end")


def _date(request: HttpRequest, name: str) -> datetime.date | None:
    value = request.GET.get(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} {value!r} is not a date; use YYYY-MM-DD.") from None


def _key(by: str | None, value: str | None) -> Any:
    if by is None:
        return None
    if by == "day":
        return datetime.date.fromisoformat(value) if value else None
    if by in ("campaign", "sub_account"):
        if not (value or "").isdigit():
            raise BadRequest(f"key {value!r} is not a {by} id.")
        return int(value or 0)
    return value or ""


def _labels(by: str | None, campaigns: QuerySet[Campaign]) -> dict[Any, str]:
    """Return the names behind campaign and sub-account ids, so rows read as names."""
    if by == "campaign":
        return dict(campaigns.values_list("pk", "name"))
    if by == "sub_account":
        return dict(campaigns.values_list("sub_account_id", "sub_account__name"))
    return {None: EMPTY_KEY_LABELS["day"]} if by == "day" else {}


def _label(by: str, key: Any, labels: dict[Any, str]) -> Any:
    if by == "error_code":
        # Recipients who met no provider error at all form their own row.
        return reasons.describe(key) if key else EMPTY_KEY_LABELS["error_code"]
    return labels.get(key, key)


def _table(result: Report, labels: dict[Any, str]) -> list[dict[str, Any]]:
    rows = result.rows if result.by else [result.total]
    return [
        {
            "key": "" if row.key is None else str(row.key),
            "label": "total" if result.by is None else _label(result.by, row.key, labels),
            "counts": [(figure.name, row[figure.name]) for figure in FIGURES],
            "row": row,
        }
        for row in rows
    ]


def _csv_download(content: Any, filename: str) -> HttpResponseBase:
    response_class = HttpResponse if isinstance(content, str) else StreamingHttpResponse
    response = response_class(content, content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _chart_data(
    campaigns: QuerySet[Campaign], card: RateCard, result: Report, start: Any, end: Any
) -> dict[str, Any]:
    per_campaign = build_report(campaigns, card, "campaign", start, end)
    per_day = build_report(campaigns, card, "day", start, end)
    names = dict(campaigns.values_list("pk", "name"))
    # The stacked parts must not overlap: "delivered on any channel" already contains the
    # SMS deliveries, so WhatsApp deliveries are what remains of it.
    outcomes = [
        "recovered",
        "direct_sms_delivered",
        "failed_whatsapp",
        "failed_both",
        "skipped",
        "cancelled",
        "in_flight",
    ]
    series = {
        "delivered_on_whatsapp": [
            row["delivered"] - row["recovered"] - row["direct_sms_delivered"]
            for row in per_campaign.rows
        ],
        **{name: [row[name] for row in per_campaign.rows] for name in outcomes},
    }
    return {
        "outcomes": {
            "labels": [names.get(row.key, str(row.key)) for row in per_campaign.rows],
            "series": series,
        },
        "fallback_rate": {
            "labels": [str(row.key) for row in per_day.rows if row.key is not None],
            "values": [row.fallback_rate for row in per_day.rows if row.key is not None],
        },
        "failures": {
            "labels": [
                f"{channel} {code or 'no code'} ({action})"
                for channel, action, code in result.failures
            ],
            "values": list(result.failures.values()),
        },
    }
