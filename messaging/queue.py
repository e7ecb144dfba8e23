"""Enqueue RQ jobs after the current transaction commits, passing ids only."""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django_rq
from django.db import transaction

logger = logging.getLogger(__name__)


# Webhook processing; see RQ_QUEUES in settings.
EVENTS = "events"


def enqueue(
    func: Callable[..., Any], *args: Any, delay: float | None = None, queue_name: str = "default"
) -> None:
    # A job enqueued before commit can run before its rows are visible to the worker.
    def push() -> None:
        queue = django_rq.get_queue(queue_name)
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
        queue = django_rq.get_queue("default")
        if queue.connection.set(dispatch_flag(campaign_id), 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
            queue.enqueue(dispatch_campaign, campaign_id)

    transaction.on_commit(push)


# A lost job (Redis flushed, worker killed) must not block later dispatches for long.
DISPATCH_FLAG_SECONDS = 300


DISPATCH_FLAG_PREFIX = "switchback:dispatch-queued:"


def dispatch_flag(campaign_id: int) -> str:
    return f"{DISPATCH_FLAG_PREFIX}{campaign_id}"


def clear_dispatch_flag(campaign_id: int) -> None:
    django_rq.get_queue("default").connection.delete(dispatch_flag(campaign_id))


EVENTS_FLAG = "switchback:events-queued"


def enqueue_event_processing() -> None:
    """Queue one process_pending_events job unless one is already waiting.

    Webhooks arrive hundreds per second; one job per POST would spend more time in RQ than
    in applying the statuses.
    """
    from .events import process_pending_events

    def push() -> None:
        queue = django_rq.get_queue(EVENTS)
        if queue.connection.set(EVENTS_FLAG, 1, nx=True, ex=DISPATCH_FLAG_SECONDS):
            queue.enqueue(process_pending_events)

    transaction.on_commit(push)


def clear_events_flag() -> None:
    django_rq.get_queue(EVENTS).connection.delete(EVENTS_FLAG)
