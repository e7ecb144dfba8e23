from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .campaigns import CampaignViewSet
from .contacts import ContactImportViewSet, ContactViewSet
from .reports import SubAccountReportView
from .templates import TemplateViewSet
from .webhooks import WebhookEndpointViewSet

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("contacts", ContactViewSet, basename="contact")
router.register("contact-imports", ContactImportViewSet, basename="contact-import")
router.register("templates", TemplateViewSet, basename="template")
router.register("campaigns", CampaignViewSet, basename="campaign")
router.register("webhook-endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")

app_name = "api"


def not_found(request: HttpRequest) -> JsonResponse:
    """Return 404 in the API's error shape for unknown API paths, not Django's HTML page."""
    message = f"No API operation at {request.path}; see /api/docs/."
    return JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)


urlpatterns = [
    path("v1/report/", SubAccountReportView.as_view(), name="report"),
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    re_path(r"^.*$", not_found),
]
