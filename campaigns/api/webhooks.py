"""Outbound webhook endpoints of the sub-account."""

import logging
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from messaging.models import WebhookEndpoint

from .base import ApiViewSet
from .idempotency import idempotent
from .schema import IDEMPOTENCY_KEY
from .serializers import WebhookEndpointSerializer

logger = logging.getLogger(__name__)


class WebhookEndpointViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    ApiViewSet,
):
    """Endpoints that receive events. The signing secret is in the response to the create only."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if self.schema_only:
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(sub_account=self.sub_account)

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        return super().create(request, *args, **kwargs)

    def get_serializer_context(self) -> dict[str, Any]:
        # The secret is in the response to the create only.
        return {**super().get_serializer_context(), "show_secret": self.action == "create"}

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        endpoint = serializer.save(sub_account=self.sub_account)
        logger.info("API key %s added webhook endpoint %s", self.request.auth.pk, endpoint.pk)
