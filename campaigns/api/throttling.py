"""Request rate limit per API key, counted in Redis so that every web process shares it."""

import functools

from django.conf import settings
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from campaigns.models import ApiKey


@functools.cache
def request_history() -> RedisCache:
    """Return the cache of request times per key (the default cache is per process)."""
    return RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "api-throttle"})


class ApiKeyThrottle(SimpleRateThrottle):
    scope = "api_key"

    def __init__(self) -> None:
        self.cache = request_history()
        super().__init__()

    def get_rate(self) -> str:
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request: Request, view) -> str | None:
        if not isinstance(request.auth, ApiKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
