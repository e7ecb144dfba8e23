"""Outbound webhook endpoints of the sub-account."""

import logging

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from messaging.models import WebhookEndpoint

from .base import ApiMixin
from .idempotency import idempotent
from .schema import IDEMPOTENCY_KEY
from .serializers import WebhookEndpointSerializer

logger = logging.getLogger(__name__)


class WebhookEndpointViewSet(
    ApiMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Where events are sent. The signing secret is in the response to the create only."""

    serializer_class = WebhookEndpointSerializer

    def get_queryset(self) -> QuerySet[WebhookEndpoint]:
        if self.schema_only:
            return WebhookEndpoint.objects.none()
        return WebhookEndpoint.objects.filter(sub_account=self.sub_account)

    @extend_schema(parameters=[IDEMPOTENCY_KEY])
    @idempotent
    def create(self, request: Request, *args, **kwargs) -> Response:
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.context["show_secret"] = True
        endpoint = serializer.save(sub_account=self.sub_account)
        logger.info("API key %s added webhook endpoint %s", self.request.auth.pk, endpoint.pk)
