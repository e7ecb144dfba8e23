"""`Authorization: Bearer <key>` authentication against stored key digests."""

import logging
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from campaigns.models import ApiKey, SubAccount
from campaigns.models.api_keys import digest

logger = logging.getLogger(__name__)

# last_used_at is written at most this often per key, to keep a write off most requests.
LAST_USE_RESOLUTION = timedelta(minutes=1)


class KeyHolder:
    """request.user of an API request: the integration holding the key, not a person."""

    is_authenticated = True
    is_anonymous = False
    is_superuser = False
    pk = None

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.sub_account: SubAccount = api_key.sub_account

    def __str__(self) -> str:
        return f"API key {self.api_key.prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[KeyHolder, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            # DRF then returns 401 NOT_AUTHENTICATED; the error handler names the header.
            return None
        scheme, _, plain = header.partition(" ")
        if scheme.lower() != "bearer" or not plain.strip():
            raise exceptions.AuthenticationFailed(
                "The Authorization header must be 'Bearer <API key>'."
            )
        plain = plain.strip()
        key = (
            ApiKey.objects.select_related("sub_account", "sub_account__agency")
            .filter(key_digest=digest(plain))
            .first()
        )
        if key is None:
            logger.info("API request with an unknown key (prefix %s)", plain[:12])
            raise exceptions.AuthenticationFailed(
                "The API key is not valid: check that it was copied whole, or create a new "
                "one in admin under API keys."
            )
        if not key.is_active:
            logger.info("API request with revoked key %s", key.pk)
            raise exceptions.AuthenticationFailed(
                "The API key was revoked; create a new one in admin."
            )
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USE_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
        return KeyHolder(key), key

    def authenticate_header(self, request: Request) -> str:
        # With a WWW-Authenticate header DRF returns 401 rather than 403.
        return 'Bearer realm="api"'
