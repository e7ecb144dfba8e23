"""Enqueue RQ jobs after the current transaction commits, passing ids only, and share one
Redis client per process."""

import functools
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.db import transaction
from redis import Redis
from rq import Queue

logger = logging.getLogger(__name__)


def redis() -> Redis:
    """Return this process's Redis client for the queues' server.

    django_rq builds a new client with its own connection pool on every call, so at
    hundreds of sends per second each send opened a TCP connection. One client's pool is
    safe to share between threads, and redis-py renews it after a fork.
    """
    return _client(settings.RQ_QUEUES["default"]["URL"])


@functools.cache
def _client(url: str) -> Redis:
    # Keyed by the URL, so that settings changed by a test get a client of their own.
    return Redis.from_url(url)


def get_queue(name: str = "default") -> Queue:
    return django_rq.get_queue(name, connection=redis())


# Webhook processing; see RQ_QUEUES in settings.
EVENTS = "events"


def enqueue(
    func: Callable[..., Any], *args: Any, delay: float | None = None, queue_name: str = "default"
) -> None:
    # A job enqueued before commit can run before its rows are visible to the worker.
    def push() -> None:
        queue = get_queue(queue_name)
        if delay:
            queue.enqueue_in(timedelta(seconds=delay), func, *args)
        else:
            queue.enqueue(func, *args)

    transaction.on_commit(push)


def enqueue_dispatch(campaign_id: int) -> None:
    """Queue one dispatch job for the campaign unless one is already waiting.

    Every fallback requests a dispatch; without this, a burst of failed webhooks queues one
    job per recipient, and all but the first find nothing to send.
    """
    from .dispatch import dispatch_campaign

    def push() -> None:
        queue = get_queue("default")
        if queue.connection.set(dispatch_flag(campaign_id), 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
            queue.enqueue(dispatch_campaign, campaign_id)

    transaction.on_commit(push)


# A lost job (Redis flushed, worker killed) must not block later dispatches for long.
DISPATCH_FLAG_SECONDS = 300


DISPATCH_FLAG_PREFIX = "switchback:dispatch-queued:"


def dispatch_flag(campaign_id: int) -> str:
    return f"{DISPATCH_FLAG_PREFIX}{campaign_id}"


def clear_dispatch_flag(campaign_id: int) -> None:
    get_queue("default").connection.delete(dispatch_flag(campaign_id))


EVENTS_FLAG = "switchback:events-queued"


def enqueue_event_processing() -> None:
    """Queue one process_pending_events job unless one is already waiting.

    Webhooks arrive hundreds per second; one job per POST would spend more time in RQ than
    in applying the statuses.
    """
    from .events import process_pending_events

    def push() -> None:
        queue = get_queue(EVENTS)
        if queue.connection.set(EVENTS_FLAG, 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
            queue.enqueue(process_pending_events)

    transaction.on_commit(push)


def clear_events_flag() -> None:
    get_queue(EVENTS).connection.delete(EVENTS_FLAG)
