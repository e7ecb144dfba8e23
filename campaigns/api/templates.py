"""WhatsApp templates of the sub-account, a sync from the provider, and the analysis of a
body for marketing wording."""

import logging

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import rewriter
from campaigns.models import Template
from campaigns.template_sync import sync_templates
from messaging.providers.errors import ProviderError, ProviderUnreachable

from .base import ApiViewSet
from .serializers import (
    AnalysisSerializer,
    AnalyzeRequestSerializer,
    SyncResultSerializer,
    TemplateSerializer,
)

logger = logging.getLogger(__name__)


class ProviderFailed(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_code = "provider_error"


class TemplateViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ApiViewSet):
    serializer_class = TemplateSerializer

    def get_queryset(self) -> QuerySet[Template]:
        if self.schema_only:
            return Template.objects.none()
        return Template.objects.filter(sub_account=self.sub_account)

    @extend_schema(request=None, responses={200: SyncResultSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def sync(self, request: Request) -> Response:
        """Copy the sub-account's templates from WhatsApp; returns how many were seen."""
        if not self.sub_account.whatsapp_configured:
            raise exceptions.ValidationError(
                {
                    "request": [
                        "The sub-account has no WhatsApp account configured; set it in admin."
                    ]
                }
            )
        try:
            synced = sync_templates(self.sub_account)
        except (ProviderError, ProviderUnreachable) as error:
            logger.warning("template sync of sub-account %s failed: %s", self.sub_account.pk, error)
            raise ProviderFailed(
                f"WhatsApp template list request failed: {error}. Check the sub-account's"
                " WhatsApp settings in admin and try again."
            ) from None
        return Response({"synced": synced})

    @extend_schema(request=AnalyzeRequestSerializer, responses={200: AnalysisSerializer})
    @action(detail=False, methods=["post"], pagination_class=None)
    def analyze(self, request: Request) -> Response:
        """Find the phrases that make a body read as MARKETING and propose a UTILITY rewrite."""
        submitted = AnalyzeRequestSerializer(data=request.data)
        submitted.is_valid(raise_exception=True)
        analysis = rewriter.analyze(submitted.validated_data["body"])
        logger.info(
            "API key %s analyzed a template body: %s findings",
            request.auth.pk,
            len(analysis.findings),
        )
        result = {
            "reads_as_marketing": analysis.reads_as_marketing,
            "findings": analysis.findings,
            "variable_share": analysis.variable_share,
            "mostly_variables": analysis.mostly_variables,
            "rewrite": analysis.rewrite,
        }
        return Response(AnalysisSerializer(result).data)
