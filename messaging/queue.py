"""Enqueue RQ jobs after the current transaction commits, passing ids only."""

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import django_rq
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(func: Callable[..., Any], *args: Any, delay: float | None = None) -> None:
    # A job enqueued before commit can run before its rows are visible to the worker.
    def push() -> None:
        queue = django_rq.get_queue("default")
        if delay:
            queue.enqueue_in(timedelta(seconds=delay), func, *args)
        else:
            queue.enqueue(func, *args)

    transaction.on_commit(push)
