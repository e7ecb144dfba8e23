"""CSV exports: the recipients behind a figure (the delivery log) and each figure table."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from django.db.models import F, QuerySet

from campaigns.models import Recipient

from .figures import EMPTY_KEY_LABELS, FIGURES, FigureRow, Report

RECIPIENT_COLUMNS = [
    "recipient_id",
    "campaign_id",
    "phone",
    "country",
    "route",
    "status",
    "reason",
    "fallback_triggered",
    "delivered_both",
    "whatsapp_status",
    "whatsapp_error_code",
    "sms_status",
    "sms_error_code",
    "sms_segments",
    "finished_at",
]
RATE_COLUMNS = ["fallback_rate", "fallback_success_rate", "reach", "recovered_rate"]
SPEND_COLUMNS = ["whatsapp_cost", "sms_cost", "cost", "agency_price"]


def recipients_csv(recipients: QuerySet[Recipient]) -> Iterable[str]:
    """Yield the delivery log of the given recipients (annotated by `with_attempts`) as CSV
    lines, one recipient a row."""
    rows = recipients.order_by("id").values_list(
        "id",
        "campaign_id",
        "phone",
        "country",
        "route",
        "status",
        "reason",
        "fallback_triggered",
        "delivered_both",
        F("wa__status"),
        F("wa__error_code"),
        F("sms__status"),
        F("sms__error_code"),
        F("sms__segments"),
        "finished_at",
    )
    yield _line(RECIPIENT_COLUMNS)
    for row in rows.iterator(chunk_size=2000):
        yield _line(["" if value is None else value for value in row])


def report_csv(report: Report) -> str:
    rows = report.rows if report.by else [report.total]
    lines = [
        _line([report.by or "total", *(f.name for f in FIGURES), *RATE_COLUMNS, *SPEND_COLUMNS])
    ]
    lines.extend(_line(_values(row, report.by)) for row in rows)
    return "".join(lines)


def _values(row: FigureRow, by: str | None) -> list[object]:
    rates = [row.fallback_rate, row.fallback_success_rate, row.reach, row.recovered_rate]
    spend = row.spend
    costs = [spend.channels["whatsapp"].cost, spend.channels["sms"].cost, spend.cost, spend.price]
    return [
        _key_cell(row.key, by),
        *(row.counts[f.name] for f in FIGURES),
        *("" if r is None else f"{r:.4f}" for r in rates),
        *costs,
    ]


def _key_cell(key: object, by: str | None) -> object:
    """Return a row's first cell: its group key, or words where the key is empty."""
    if by is None:
        return "total"
    if key is None or key == "":
        return EMPTY_KEY_LABELS.get(by, "")
    return key


def _line(values: Iterable[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()
