"""An API client holding a key of one sub-account, and a second sub-account to hide."""

import pytest
from rest_framework.test import APIClient

from campaigns.api.throttling import request_history
from campaigns.models import ApiKey
from tests.factories import SubAccountFactory


@pytest.fixture(autouse=True)
def fresh_throttle() -> None:
    # Key ids repeat between tests, and the request history lives in Redis.
    request_history().clear()


@pytest.fixture(autouse=True)
def loopback_receivers(settings) -> None:
    # Test receivers listen on 127.0.0.1, which production rejects as a webhook target.
    settings.OUTBOUND_WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def sub_account(db):
    return SubAccountFactory()


@pytest.fixture
def other_sub_account(db):
    return SubAccountFactory()


@pytest.fixture
def api_key(sub_account) -> tuple[ApiKey, str]:
    return ApiKey.issue(sub_account, "tests")


@pytest.fixture
def api(api_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key[1]}")
    return client
