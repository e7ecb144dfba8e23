"""The one HTTP session every provider call goes through: pooled keep-alive connections
and a timeout on every request."""

import threading

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

_local = threading.local()


def session() -> requests.Session:
    # One session per thread: requests does not promise that a Session is thread-safe, and
    # dispatch sends from a thread pool.
    if not hasattr(_local, "session"):
        pooled = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=4)
        pooled.mount("http://", adapter)
        pooled.mount("https://", adapter)
        _local.session = pooled
    return _local.session


def timeout() -> float:
    return settings.PROVIDER_TIMEOUT_SECONDS
