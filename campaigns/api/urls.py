from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from .campaigns import CampaignViewSet
from .contacts import ContactImportViewSet, ContactViewSet
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

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
]
