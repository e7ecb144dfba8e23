"""The RQ job dashboard, for superusers only.

django-rq lets any staff user see, delete and requeue jobs, and the queues hold the jobs
of every agency, so agency staff must not reach it.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django_rq.admin import QueueAdmin
from django_rq.models import Dashboard
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns


def require_superuser(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_superuser:
            raise PermissionDenied("The job queues hold every agency's jobs: superusers only.")
        return view(request, *args, **kwargs)

    return checked


def job_dashboard_urls() -> list[Any]:
    """django-rq's URLs with every session-authenticated view limited to superusers.

    The stats and metrics URLs keep django-rq's own API-token check.
    """
    return get_api_urlpatterns() + get_admin_urlpatterns(view_wrapper=require_superuser)


class SuperuserQueueAdmin(QueueAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        return require_superuser(super().changelist_view)(request, extra_context)

    def get_urls(self) -> list[Any]:
        def wrap(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
            return self.admin_site.admin_view(require_superuser(view))

        own = admin.ModelAdmin.get_urls(self)
        return get_api_urlpatterns("django_rq_") + get_admin_urlpatterns("django_rq_", wrap) + own


if admin.site.is_registered(Dashboard):
    admin.site.unregister(Dashboard)
    admin.site.register(Dashboard, SuperuserQueueAdmin)
