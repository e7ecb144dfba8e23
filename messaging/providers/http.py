"""The one HTTP session every provider call goes through: pooled keep-alive connections
and a timeout on every request."""

import functools
import os
import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

_local = threading.local()


class ProviderSession(requests.Session):
    """A session that reads proxy and CA bundle settings from the environment once per
    provider address instead of on every request.

    With `trust_env`, requests scans the whole environment for proxies and looks for a
    .netrc file on each request: 14 % of a dispatch worker's time holding the GIL at 700
    sends/s, by py-spy. Providers authenticate by header or basic auth, so .netrc is never
    needed. The environment is read at a process's first request to each address.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False

    def merge_environment_settings(
        self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        environment_proxies, environment_verify = environment_settings(_origin(url))
        proxies = {**environment_proxies, **(proxies or {})}
        if verify is True or verify is None:
            verify = environment_verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


@functools.cache
def environment_settings(origin: str) -> tuple[dict[str, str], bool | str]:
    """Return the proxies and the CA bundle that requests would take from the environment
    for `origin`, as it does with `trust_env`."""
    verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return get_environ_proxies(origin), verify


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def session() -> requests.Session:
    # One session per thread: requests does not promise that a Session is thread-safe, and
    # dispatch sends from a thread pool.
    if not hasattr(_local, "session"):
        pooled = ProviderSession()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=4)
        pooled.mount("http://", adapter)
        pooled.mount("https://", adapter)
        _local.session = pooled
    return _local.session


def timeout() -> float:
    return settings.PROVIDER_TIMEOUT_SECONDS
