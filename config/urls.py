from django.contrib import admin
from django.urls import include, path

from campaigns.admin.jobs import job_dashboard_urls

urlpatterns = [
    path("admin/", admin.site.urls),
    path("django-rq/", include((job_dashboard_urls(), "django_rq"))),
    path("webhooks/", include("messaging.urls")),
    path("api/", include("campaigns.api.urls")),
    path("reports/", include("reports.urls")),
    path("", include("campaigns.urls")),
]
