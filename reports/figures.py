"""The report figures of a campaign, a sub-account or an agency, and the recipients
behind each of them.

Figures are counted from report cells (see `reports.cells`). Every figure is defined
twice, as a test on a cell and as a filter on recipients, and tests check that both
count the same recipients. Public API, also used by the REST API:

- `campaign_figures(campaign, by=None, start=None, end=None)`
- `sub_account_figures(sub_account, by=None, start=None, end=None)`
- `agency_figures(agency, by=None, start=None, end=None)`; `by="sub_account"` gives the
  spend per sub-account
- `recipients_behind(recipients, figure, by=None, key=None, start=None, end=None)`

`by` is one of GROUPINGS. `start` and `end` are dates, both included, and select
recipients by the day they reached their final state, a local day in their sub-account's
time zone. Recipients still in flight appear only in reports without a date range.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from campaigns.models import (
    FINAL_STATUSES,
    Agency,
    Campaign,
    Recipient,
    RecipientStatus,
    Route,
    SubAccount,
)
from messaging.models import AttemptStatus
from messaging.policy import classify

from .billing import DELIVERED, RateCard, Spend, charge_cells
from .cells import Cell, cells_for, with_attempts

S = RecipientStatus


@dataclass(frozen=True)
class Figure:
    name: str
    label: str
    test: Callable[[Cell], bool]
    filter: Q


FIGURES = [
    Figure("targeted", "targeted", lambda c: True, Q()),
    Figure("skipped", "skipped", lambda c: c["status"] == S.SKIPPED, Q(status=S.SKIPPED)),
    Figure(
        "whatsapp_attempted",
        "WhatsApp attempted",
        lambda c: c["wa_status"] != "",
        Q(wa__id__isnull=False),
    ),
    Figure(
        "whatsapp_delivered",
        "WhatsApp delivered or read",
        lambda c: c["wa_status"] in DELIVERED,
        Q(wa__status__in=DELIVERED),
    ),
    Figure(
        "whatsapp_failed",
        "WhatsApp failed",
        lambda c: c["wa_status"] == AttemptStatus.FAILED,
        Q(wa__status=AttemptStatus.FAILED),
    ),
    Figure(
        "fallback_triggered",
        "fallback triggered",
        # The recipient's flag, set when the fallback SMS is queued: an SMS held for US quiet
        # hours has no attempt row until the morning, and still counts.
        lambda c: c["route"] == Route.WHATSAPP and bool(c["fallback_triggered"]),
        Q(route=Route.WHATSAPP, fallback_triggered=True),
    ),
    Figure(
        "fallback_delivered",
        "fallback SMS delivered",
        lambda c: c["route"] == Route.WHATSAPP and c["sms_status"] == AttemptStatus.DELIVERED,
        Q(route=Route.WHATSAPP, sms__status=AttemptStatus.DELIVERED),
    ),
    Figure(
        "direct_sms", "direct SMS", lambda c: c["route"] == Route.DIRECT_SMS, Q(route="direct_sms")
    ),
    Figure(
        "direct_sms_delivered",
        "direct SMS delivered",
        lambda c: c["route"] == Route.DIRECT_SMS and c["status"] == S.DELIVERED_SMS,
        Q(route=Route.DIRECT_SMS, status=S.DELIVERED_SMS),
    ),
    Figure(
        "delivered",
        "delivered on any channel",
        lambda c: c["status"] in (S.DELIVERED_WHATSAPP, S.DELIVERED_SMS),
        Q(status__in=[S.DELIVERED_WHATSAPP, S.DELIVERED_SMS]),
    ),
    Figure(
        "recovered",
        "recovered by fallback",
        lambda c: c["route"] == Route.WHATSAPP and c["status"] == S.DELIVERED_SMS,
        Q(route=Route.WHATSAPP, status=S.DELIVERED_SMS),
    ),
    Figure(
        "delivered_both",
        "delivered on both channels",
        lambda c: bool(c["delivered_both"]),
        Q(delivered_both=True),
    ),
    Figure(
        "failed_whatsapp",
        "failed on WhatsApp",
        lambda c: c["status"] == S.FAILED_WHATSAPP,
        Q(status=S.FAILED_WHATSAPP),
    ),
    Figure(
        "failed_both",
        "failed on both",
        lambda c: c["status"] == S.FAILED_BOTH,
        Q(status="failed_both"),
    ),
    Figure("cancelled", "cancelled", lambda c: c["status"] == S.CANCELLED, Q(status=S.CANCELLED)),
    Figure(
        "in_flight",
        "not final yet",
        lambda c: c["status"] not in FINAL_STATUSES,
        ~Q(status__in=list(FINAL_STATUSES)),
    ),
]
FIGURE_BY_NAME = {figure.name: figure for figure in FIGURES}


def _error_code(cell: Cell) -> str:
    # The first error the recipient met: WhatsApp's when it failed there, else the SMS one.
    return str(cell["wa_code"] or cell["sms_code"] or "")


GROUPINGS: dict[str, Callable[[Cell], Any]] = {
    "day": lambda c: c["day"],
    "country": lambda c: c["country"],
    "category": lambda c: c["category"],
    "error_code": _error_code,
    "campaign": lambda c: c["campaign_id"],
    "sub_account": lambda c: c["sub_account_id"],
}
# Words for the row whose key is empty, in the page and the CSV export: recipients who
# met no provider error, and recipients with no final day because they are in flight.
EMPTY_KEY_LABELS = {"error_code": "no error code", "day": "in flight"}


def _rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass
class FigureRow:
    """The figures of one group (or of the whole report, with key None)."""

    key: Any
    counts: dict[str, int]
    spend: Spend

    def __getitem__(self, name: str) -> int:
        return self.counts[name]

    @property
    def fallback_rate(self) -> float | None:
        return _rate(self["fallback_triggered"], self["whatsapp_attempted"])

    @property
    def fallback_success_rate(self) -> float | None:
        return _rate(self["fallback_delivered"], self["fallback_triggered"])

    @property
    def reach(self) -> float | None:
        return _rate(self["delivered"], self["targeted"])

    @property
    def recovered_rate(self) -> float | None:
        return _rate(self["recovered"], self["targeted"])


@dataclass
class Report:
    total: FigureRow
    rows: list[FigureRow] = field(default_factory=list)
    by: str | None = None
    # skipped by reason; failures by (channel, class, code); failed_both by reason pair.
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str], int] = field(default_factory=dict)
    failed_both_pairs: dict[str, int] = field(default_factory=dict)


def campaign_figures(
    campaign: Campaign,
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Report:
    card = RateCard(campaign.sub_account.agency)
    return build_report([campaign], card, by, start, end)


def sub_account_figures(
    sub_account: SubAccount,
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Report:
    campaigns = Campaign.objects.filter(sub_account=sub_account)
    return build_report(campaigns, RateCard(sub_account.agency), by, start, end)


def agency_figures(
    agency: Agency,
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Report:
    campaigns = Campaign.objects.filter(sub_account__agency=agency)
    return build_report(campaigns, RateCard(agency), by, start, end)


def build_report(
    campaigns: Iterable[Campaign],
    card: RateCard,
    by: str | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> Report:
    if by is not None and by not in GROUPINGS:
        raise ValueError(f"grouping {by!r} is not one of {', '.join(GROUPINGS)}")
    campaigns = list(campaigns)
    sub_accounts = {campaign.pk: campaign.sub_account_id for campaign in campaigns}
    cells = [
        {**cell, "sub_account_id": sub_accounts[cell["campaign_id"]]}
        for cell in cells_for(campaigns)
        if _in_range(cell["day"], start, end)
    ]
    report = Report(total=_figure_row(None, cells, card), by=by)
    if by is not None:
        groups: dict[Any, list[Cell]] = {}
        for cell in cells:
            groups.setdefault(GROUPINGS[by](cell), []).append(cell)
        keys = sorted(groups, key=lambda key: (key is None, str(key)))
        report.rows = [_figure_row(key, groups[key], card) for key in keys]
    _add_breakdowns(report, cells)
    return report


def recipients_behind(
    recipients: QuerySet[Recipient],
    figure: str,
    by: str | None = None,
    key: Any = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> QuerySet[Recipient]:
    """Filter recipients down to those counted in one figure (of one group)."""
    if figure not in FIGURE_BY_NAME:
        raise ValueError(f"figure {figure!r} is not one of {', '.join(FIGURE_BY_NAME)}")
    found = with_attempts(recipients).filter(FIGURE_BY_NAME[figure].filter)
    if start is not None or end is not None:
        found = found.filter(finished_between(start, end))
    if by is not None:
        found = found.filter(_group_filter(by, key))
    return found


def finished_between(first: datetime.date | None, last: datetime.date | None) -> Q:
    """Select recipients that reached their final state from local day `first` to `last`
    (both included, None for no bound), each day in the recipient's sub-account's time zone.

    Sub-accounts are few and share a handful of zones, so the filter lists the bounds of
    every zone in use instead of converting each recipient's time in the database.
    """
    names_by_zone: dict[ZoneInfo, list[str]] = {}
    for name in SubAccount.objects.values_list("timezone", flat=True).distinct():
        zone = SubAccount(timezone=name).zone or ZoneInfo("UTC")
        names_by_zone.setdefault(zone, []).append(name)
    selected = Q(pk__in=[])
    for zone, names in names_by_zone.items():
        bounds = Q(campaign__sub_account__timezone__in=names)
        if first is not None:
            bounds &= Q(finished_at__gte=datetime.datetime.combine(first, datetime.time(), zone))
        if last is not None:
            after = last + datetime.timedelta(days=1)
            bounds &= Q(finished_at__lt=datetime.datetime.combine(after, datetime.time(), zone))
        selected |= bounds
    return selected


def _group_filter(by: str, key: Any) -> Q:
    if by == "day":
        return Q(finished_at__isnull=True) if key is None else finished_between(key, key)
    if by == "country":
        return Q(country=key)
    if by == "category":
        return Q(campaign__template__category=key)
    if by == "campaign":
        return Q(campaign_id=key)
    if by == "sub_account":
        return Q(campaign__sub_account_id=key)
    if by == "error_code":
        no_whatsapp_code = Q(wa__id__isnull=True) | Q(wa__error_code="")
        if not key:
            return no_whatsapp_code & (Q(sms__id__isnull=True) | Q(sms__error_code=""))
        return Q(wa__error_code=key) | (no_whatsapp_code & Q(sms__error_code=key))
    raise ValueError(f"grouping {by!r} is not one of {', '.join(GROUPINGS)}")


def _in_range(day: datetime.date | None, start: Any, end: Any) -> bool:
    if start is None and end is None:
        return True
    if day is None:
        return False
    return (start is None or day >= start) and (end is None or day <= end)


def _figure_row(key: Any, cells: list[Cell], card: RateCard) -> FigureRow:
    counts = {
        figure.name: sum(cell["recipients"] for cell in cells if figure.test(cell))
        for figure in FIGURES
    }
    return FigureRow(key, counts, charge_cells(cells, card))


def _add_breakdowns(report: Report, cells: list[Cell]) -> None:
    for cell in cells:
        count = cell["recipients"]
        if cell["status"] == S.SKIPPED:
            _add(report.skipped_reasons, cell["reason"], count)
        if cell["status"] == S.FAILED_BOTH:
            _add(report.failed_both_pairs, cell["reason"], count)
        for channel in ("wa", "sms"):
            if cell[f"{channel}_status"] != AttemptStatus.FAILED:
                continue
            name = "whatsapp" if channel == "wa" else "sms"
            code = cell[f"{channel}_code"]
            action = str(classify(name, code).action) if code else "unknown"
            _add(report.failures, (name, action, code), count)


def _add(counter: dict[Any, int], key: Any, count: int) -> None:
    counter[key] = counter.get(key, 0) + count
