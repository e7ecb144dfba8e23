"""Base class of every API view: key authentication, per-key throttling, the error shape,
the schema class and the sub-account of the key."""

from typing import Any

from rest_framework import permissions, views, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request

from campaigns.models import ApiKey, SubAccount

from . import errors
from .authentication import ApiKeyAuthentication
from .schema import ApiSchema
from .throttling import ApiKeyThrottle


class HasApiKey(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiKey)


class Cursor(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


class ApiView(views.APIView):
    """Authentication, throttling, errors and schema shared by every API view; used alone
    for a resource without a model queryset."""

    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    throttle_classes = [ApiKeyThrottle]
    schema = ApiSchema()

    def get_exception_handler(self):
        return errors.handle

    @property
    def sub_account(self) -> SubAccount:
        assert isinstance(self.request.auth, ApiKey)
        return self.request.auth.sub_account


class ApiViewSet(ApiView, viewsets.GenericViewSet):
    pagination_class = Cursor
    # Any path segment reaches the view, so a malformed id gets the JSON 404 of the API
    # rather than the HTML 404 of the URL resolver.
    lookup_value_regex = "[^/]+"

    @property
    def schema_only(self) -> bool:
        """drf-spectacular instantiates views without a request key to read their types."""
        return getattr(self, "swagger_fake_view", False)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if isinstance(getattr(self.request, "auth", None), ApiKey):
            context["sub_account"] = self.sub_account
        return context
