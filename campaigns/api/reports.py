"""Report figures for the API, from reports.figures, so that the API, the report pages and
the campaign.completed webhook count the same recipients the same way."""

import datetime
import logging
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import reasons
from reports.billing import Spend
from reports.figures import FIGURES, GROUPINGS, FigureRow, Report, sub_account_figures

from .base import ApiView

logger = logging.getLogger(__name__)


def money(help_text: str = "") -> serializers.DecimalField:
    """Return a field for an amount in the rate card's currency, sent as a decimal string."""
    return serializers.DecimalField(
        max_digits=20, decimal_places=5, coerce_to_string=True, help_text=help_text
    )


class ReportQuerySerializer(serializers.Serializer):
    by = serializers.ChoiceField(
        choices=list(GROUPINGS),
        required=False,
        help_text="Add one row per day, country, template category, error code, campaign "
        "or sub-account.",
    )
    start = serializers.DateField(
        required=False,
        help_text="First UTC day, inclusive, on which recipients reached a final state. "
        "With start or end, recipients still in flight are left out.",
    )
    end = serializers.DateField(required=False, help_text="Last UTC day, inclusive.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs.get("start"), attrs.get("end")
        if start and end and start > end:
            raise serializers.ValidationError(
                {"end": [f"{end} is before start {start}; swap the two dates."]}
            )
        return attrs


def read_query(params: Any) -> tuple[str | None, datetime.date | None, datetime.date | None]:
    """Return by, start and end from query parameters, or raise a ValidationError."""
    query = ReportQuerySerializer(data={name: value for name, value in params.items() if value})
    query.is_valid(raise_exception=True)
    options = query.validated_data
    return options.get("by"), options.get("start"), options.get("end")


class ChannelSpendSerializer(serializers.Serializer):
    messages = serializers.IntegerField(help_text="Delivered messages charged on this channel.")
    segments = serializers.IntegerField(help_text="SMS segments billed; 0 for WhatsApp.")
    cost = money("Provider cost from the rate card.")
    price = money("cost × (1 + the agency's markup).")
    unpriced = serializers.IntegerField(
        help_text="Messages without a rate in the agency's rate card; they add no cost."
    )


class SpendSerializer(serializers.Serializer):
    markup = money()
    cost = money()
    price = money()
    channels = serializers.DictField(
        child=ChannelSpendSerializer(), help_text="Keyed by channel: whatsapp and sms."
    )


class EstimateSerializer(serializers.Serializer):
    campaign = serializers.IntegerField()
    based_on = serializers.ChoiceField(
        choices=["audience", "recipients"],
        help_text="audience: a draft's contacts routed now, each SMS at the segments of its "
        "own text. recipients: the stored routes of a launched campaign, SMS at the "
        "segments of the unrendered text.",
    )
    spend = SpendSerializer(
        help_text="As if every routed recipient were delivered on its first channel; "
        "fallback SMS are not included."
    )


FIGURE_HELP = "; ".join(f"{figure.name}: {figure.label}" for figure in FIGURES)


class FigureRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        allow_null=True,
        help_text="The group of this row, e.g. 2026-06-02, GB, MARKETING, 131026 or a "
        "campaign id; null on the total.",
    )
    figures = serializers.DictField(
        child=serializers.IntegerField(), help_text=f"Recipients per figure. {FIGURE_HELP}."
    )
    fallback_rate = serializers.FloatField(
        allow_null=True, help_text="fallback_triggered / whatsapp_attempted; null when 0/0."
    )
    fallback_success_rate = serializers.FloatField(
        allow_null=True, help_text="fallback_delivered / fallback_triggered."
    )
    reach = serializers.FloatField(allow_null=True, help_text="delivered / targeted.")
    recovered_rate = serializers.FloatField(
        allow_null=True, help_text="recovered (delivered by fallback SMS) / targeted."
    )
    spend = SpendSerializer()


class ReasonCountSerializer(serializers.Serializer):
    reason = serializers.CharField()
    reason_text = serializers.CharField()
    recipients = serializers.IntegerField()


class FailureSerializer(serializers.Serializer):
    channel = serializers.CharField(help_text="whatsapp or sms.")
    error_class = serializers.CharField(
        help_text="What the error-code table does with the code: fallback, retry or terminal."
    )
    code = serializers.CharField()
    code_text = serializers.CharField()
    recipients = serializers.IntegerField()


class ReportSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["campaign", "sub_account"])
    id = serializers.IntegerField(help_text="The campaign or sub-account id.")
    by = serializers.CharField(allow_null=True)
    start = serializers.DateField(allow_null=True)
    end = serializers.DateField(allow_null=True)
    total = FigureRowSerializer()
    rows = FigureRowSerializer(many=True, help_text="One per group of `by`; empty without it.")
    skipped_by_reason = ReasonCountSerializer(many=True)
    failures = FailureSerializer(
        many=True, help_text="Failed attempts by channel, error class and code."
    )
    failed_both_pairs = ReasonCountSerializer(
        many=True, help_text="Recipients failed on both channels, by WhatsApp/SMS reason pair."
    )


def report_data(
    report: Report,
    scope: str,
    owner_id: int,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> dict[str, Any]:
    """Return a report as the API shows it: JSON-ready, money as decimal strings."""
    data = {
        "scope": scope,
        "id": owner_id,
        "by": report.by,
        "start": start,
        "end": end,
        "total": _row(report.total),
        "rows": [_row(row) for row in report.rows],
        "skipped_by_reason": _reason_counts(report.skipped_reasons),
        "failures": [
            {
                "channel": channel,
                "error_class": error_class,
                "code": code,
                "code_text": reasons.describe(code) if code else "",
                "recipients": count,
            }
            for (channel, error_class, code), count in sorted(report.failures.items())
        ],
        "failed_both_pairs": _reason_counts(report.failed_both_pairs),
    }
    return ReportSerializer(data).data


def _row(row: FigureRow) -> dict[str, Any]:
    return {
        "key": None if row.key is None else str(row.key),
        "figures": dict(row.counts),
        "fallback_rate": row.fallback_rate,
        "fallback_success_rate": row.fallback_success_rate,
        "reach": row.reach,
        "recovered_rate": row.recovered_rate,
        "spend": spend_data(row.spend),
    }


def spend_data(spend: Spend) -> dict[str, Any]:
    return {
        "markup": spend.markup,
        "cost": spend.cost,
        "price": spend.price,
        "channels": {
            str(channel): {
                "messages": line.messages,
                "segments": line.segments,
                "cost": line.cost,
                "price": spend.price_of(channel),
                "unpriced": line.unpriced,
            }
            for channel, line in spend.channels.items()
        },
    }


def _reason_counts(counts: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {
            "reason": reason,
            "reason_text": reasons.describe(reason) if reason else "",
            "recipients": count,
        }
        for reason, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


class SubAccountReportView(ApiView):
    @extend_schema(
        operation_id="report_retrieve",
        parameters=[ReportQuerySerializer],
        responses={200: ReportSerializer},
    )
    def get(self, request: Request) -> Response:
        """Return the figures of every campaign of the key's sub-account together."""
        by, start, end = read_query(request.query_params)
        sub_account = self.sub_account
        report = sub_account_figures(sub_account, by=by, start=start, end=end)
        logger.info("API key %s read the report of sub-account %s", request.auth.pk, sub_account.pk)
        return Response(report_data(report, "sub_account", sub_account.pk, start, end))
