from django.apps import AppConfig


class ApiConfig(AppConfig):
    """An app of its own so that admin autodiscovery finds campaigns/api/admin.py."""

    name = "campaigns.api"
    label = "campaigns_api"
    verbose_name = "API"
