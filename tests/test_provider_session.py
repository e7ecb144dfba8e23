"""The provider session reads proxies from the environment once per provider address and
still sends through them."""

import pytest
import requests

from messaging.providers import http

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_environment_settings():
    http.environment_settings.cache_clear()
    yield
    http.environment_settings.cache_clear()


def test_environment_read_once(sandbox, monkeypatch):
    reads = []
    real = http.get_environ_proxies

    def counting(url, no_proxy=None):
        reads.append(url)
        return real(url, no_proxy)

    monkeypatch.setattr(http, "get_environ_proxies", counting)
    for _ in range(5):
        assert http.session().get(f"{sandbox.url}/_sandbox/health", timeout=5).ok

    assert reads == [f"{sandbox.url}/"]


def test_environment_proxy_used(sandbox, monkeypatch):
    # Nothing listens on port 9 of loopback, so a request sent through the proxy fails.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    with pytest.raises(requests.exceptions.ProxyError):
        http.session().get(f"{sandbox.url}/_sandbox/health", timeout=5)
