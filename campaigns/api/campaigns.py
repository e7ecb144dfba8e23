"""Campaigns: create, launch, pause, resume, cancel, retrieve with live counters, the
delivery log of their recipients and their report."""

import logging

from django.db.models import Prefetch, Q, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import controls
from campaigns.launch import LaunchError, start_launch
from campaigns.models import (
    ApiKey,
    Campaign,
    CampaignStatus,
    Recipient,
    RecipientStatus,
)
from messaging.models import DeliveryAttempt
from reports import billing
from reports.figures import campaign_figures

from .base import ApiViewSet
from .errors import Conflict
from .idempotency import idempotent
from .reports import (
    EstimateSerializer,
    ReportQuerySerializer,
    ReportSerializer,
    read_query,
    report_data,
    spend_data,
)
from .schema import IDEMPOTENCY_KEY
from .serializers import CampaignSerializer, RecipientSerializer

logger = logging.getLogger(__name__)

RECIPIENT_FILTERS = [
    OpenApiParameter("status", str, enum=RecipientStatus.values),
    OpenApiParameter("reason", str, description="A reason code, e.g. 131026 or sms_opt_out."),
    OpenApiParameter("country", str, description="ISO 3166 alpha-2, e.g. GB."),
]


class CampaignViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    ApiViewSet,
):
    serializer_class = CampaignSerializer

    def get_queryset(self) -> QuerySet[Campaign]:
        if self.schema_only:
            return Campaign.objects.none()
        return Campaign.objects.filter(sub_account=self.sub_account)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["with_counters"] = self.action != "list"
        return context

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(self.request.auth, ApiKey)
        campaign = serializer.save(
            sub_account=self.sub_account, created_by=self.request.auth.created_by
        )
        logger.info("API key %s created campaign %s", self.request.auth.pk, campaign.pk)

    def update(self, request: Request, *args, **kwargs) -> Response:
        """Change a draft; a launched campaign keeps what it was launched with."""
        _require_draft(self.get_object())
        return super().update(request, *args, **kwargs)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        assert isinstance(serializer.instance, Campaign)
        campaign = serializer.instance
        # Conditional on draft: a launch between the check in update() and this write
        # must not have its status or recipients' inputs changed under it.
        changed = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.DRAFT).update(
            **serializer.validated_data
        )
        if not changed:
            campaign.refresh_from_db()
            _require_draft(campaign)
        campaign.refresh_from_db()
        logger.info("API key %s updated campaign %s", self.request.auth.pk, campaign.pk)

    def _control(self, request: Request, act) -> Response:
        campaign = self.get_object()
        try:
            act(campaign)
        except (LaunchError, controls.ControlError) as error:
            raise Conflict(str(error)) from None
        campaign.refresh_from_db()
        logger.info("API key %s: %s campaign %s", request.auth.pk, self.action, campaign.pk)
        return Response(self.get_serializer(campaign).data)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def launch(self, request: Request, pk: str) -> Response:
        """Materialize the recipients and start sending; only a draft can be launched."""
        return self._control(request, start_launch)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def pause(self, request: Request, pk: str) -> Response:
        return self._control(request, controls.pause)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str) -> Response:
        return self._control(request, controls.resume)

    @extend_schema(request=None, responses={200: CampaignSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        """End the campaign; recipients not yet sent end as cancelled."""
        return self._control(request, controls.cancel)

    @extend_schema(parameters=RECIPIENT_FILTERS, responses={200: RecipientSerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=RecipientSerializer)
    def recipients(self, request: Request, pk: str) -> Response:
        """List the delivery log: each recipient with its WhatsApp and SMS attempts."""
        campaign = self.get_object()
        found = Recipient.objects.filter(campaign=campaign).prefetch_related(
            Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("id"))
        )
        params = request.query_params
        if status := params.get("status"):
            if status not in RecipientStatus.values:
                raise serializers.ValidationError(
                    {
                        "status": [
                            f"'{status}' is not a status; use one of {RecipientStatus.values}."
                        ]
                    }
                )
            found = found.filter(status=status)
        if reason := params.get("reason"):
            # A reason may be a chain such as "131026/landline"; match any link of it.
            found = found.filter(
                Q(reason=reason)
                | Q(reason__startswith=f"{reason}/")
                | Q(reason__endswith=f"/{reason}")
                | Q(reason__contains=f"/{reason}/")
            )
        if country := params.get("country"):
            found = found.filter(country=country.upper())
        page = self.paginate_queryset(found)
        assert page is not None
        return self.get_paginated_response(RecipientSerializer(page, many=True).data)

    @extend_schema(parameters=[ReportQuerySerializer], responses={200: ReportSerializer})
    @action(detail=True, methods=["get"], pagination_class=None)
    def report(self, request: Request, pk: str) -> Response:
        """Return the campaign's report figures, optionally grouped and limited to days."""
        campaign = self.get_object()
        by, start, end = read_query(request.query_params)
        report = campaign_figures(campaign, by=by, start=start, end=end)
        return Response(report_data(report, "campaign", campaign.pk, start, end))

    @extend_schema(responses={200: EstimateSerializer})
    @action(detail=True, methods=["get"], pagination_class=None)
    def estimate(self, request: Request, pk: str) -> Response:
        """Estimate the campaign's spend from the agency's rate card, before or after launch."""
        campaign = self.get_object()
        based_on = "recipients" if campaign.recipients.exists() else "audience"
        spend = billing.estimate(campaign)
        logger.info(
            "API key %s estimated campaign %s from its %s", request.auth.pk, campaign.pk, based_on
        )
        data = {"campaign": campaign.pk, "based_on": based_on, "spend": spend_data(spend)}
        return Response(EstimateSerializer(data).data)


def _require_draft(campaign: Campaign) -> None:
    if campaign.status != CampaignStatus.DRAFT:
        raise Conflict(
            f"Campaign {campaign.pk} is {campaign.status}; only a draft can be changed. "
            "Cancel it and create a new campaign instead."
        )


def campaign_report(campaign: Campaign) -> dict:
    """Return the whole report of a campaign, as sent with campaign.completed."""
    return report_data(campaign_figures(campaign), "campaign", campaign.pk)
