"""Shared fixtures: real Redis, jobs run by a real RQ worker, the sandbox over real HTTP."""

import os
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import django_rq
import pytest
import time_machine
from django.conf import settings
from rq import Queue, SimpleWorker
from rq.registry import ScheduledJobRegistry

from config import private_redis
from messaging.dispatch import WAKE_PREFIX
from messaging.events import DRAIN_LOCK, DRAIN_RETRY
from messaging.queue import DISPATCH_FLAG_PREFIX, EVENTS_FLAG


@pytest.fixture(scope="session", autouse=True)
def redis_server() -> None:
    if not os.environ.get("REDIS_URL"):
        private_redis.ensure_running()


@pytest.fixture(autouse=True)
def empty_queue() -> Iterator[None]:
    events = django_rq.get_queue("events")
    events.empty()
    queue = django_rq.get_queue("default")
    queue.empty()
    scheduled = ScheduledJobRegistry(queue=queue)
    for job_id in scheduled.get_job_ids():
        scheduled.remove(job_id, delete_job=True)
    # Campaign ids restart in every test, and a flag left by a dispatch job that never ran
    # would keep the next test's campaign with that id from being dispatched.
    # The same holds for the flag of the event drain, whose job the line above removed, and
    # for the wake-up time of a campaign with held recipients.
    for prefix in (DISPATCH_FLAG_PREFIX, WAKE_PREFIX):
        for key in queue.connection.scan_iter(f"{prefix}*"):
            queue.connection.delete(key)
    queue.connection.delete(EVENTS_FLAG, DRAIN_LOCK, DRAIN_RETRY)
    yield
    events.empty()
    queue.empty()


class BurstWorker(SimpleWorker):
    """A burst worker without the command pub/sub thread.

    rq starts that thread with a 60 s poll; when the thread polls before the subscription
    is confirmed, stopping it waits the full minute. A burst worker takes no commands.
    """

    def subscribe(self) -> None:
        pass

    def unsubscribe(self) -> None:
        pass


def work(max_seconds: float = 0) -> int:
    """Run every queued job in this process with a burst SimpleWorker; return how many ran.

    Scheduled jobs (retries) become due only when their time has come, so callers that
    expect them pass max_seconds and the worker keeps polling until nothing is left.
    """
    events = django_rq.get_queue("events")
    queue = django_rq.get_queue("default")
    scheduled = ScheduledJobRegistry(queue=queue)
    ran = 0
    deadline = time.monotonic() + max_seconds
    while True:
        _enqueue_due(queue, scheduled)
        worker = BurstWorker([events, queue], connection=queue.connection)
        worker.work(burst=True, logging_level="WARNING")
        ran += worker.successful_job_count + worker.failed_job_count
        idle = not len(events) and not len(queue) and not scheduled.count
        if time.monotonic() >= deadline or idle:
            return ran
        time.sleep(0.1)


def _enqueue_due(queue: Queue, scheduled: ScheduledJobRegistry) -> None:
    # The worker's own scheduler takes a Redis lock that a previous test run may still hold
    # for up to a minute. Moving due jobs here keeps tests independent of that lock.
    for job_id in scheduled.get_jobs_to_schedule():
        job = queue.fetch_job(job_id)
        scheduled.remove(job_id)
        if job is not None:
            queue.enqueue_job(job)


@pytest.fixture
def run_jobs() -> Callable[..., int]:
    return work


# SMS to US numbers waits for 08:00-21:00 in the recipient's local time. Sandbox tests
# therefore run on a clock set to a US afternoon (11:00 in Honolulu, 17:00 in New York),
# so their outcomes do not depend on when the suite runs.
US_AFTERNOON = datetime(2026, 6, 2, 21, 0, tzinfo=UTC)


@pytest.fixture
def sandbox(live_server, settings) -> Iterator:
    """The provider sandbox as its own process, with webhooks aimed at the live server."""
    from messaging.sandbox.testing import SandboxProcess

    with (
        time_machine.travel(US_AFTERNOON, tick=True),
        SandboxProcess(
            meta_webhook_url=f"{live_server.url}/webhooks/whatsapp/",
            meta_app_secret=settings.META_APP_SECRET,
            twilio_inbound_url=f"{live_server.url}/webhooks/twilio/inbound/",
        ) as process,
    ):
        settings.WHATSAPP_API_BASE_URL = f"{process.url}/v21.0"
        settings.TWILIO_API_BASE_URL = process.url
        settings.PUBLIC_BASE_URL = live_server.url
        yield process


@pytest.fixture
def post_status(client, settings, django_capture_on_commit_callbacks) -> Callable[..., None]:
    """POST a signed WhatsApp status webhook; its processing job is queued as after a commit."""
    from django.urls import reverse

    from tests.webhook_payloads import encode, meta_signature

    def post(payload) -> None:
        body = encode(payload)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("webhooks:whatsapp"),
                body,
                content_type="application/json",
                HTTP_X_HUB_SIGNATURE_256=meta_signature(body, settings.META_APP_SECRET),
            )
        assert response.status_code == 200

    return post


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Run queued jobs until condition() is true (webhooks keep arriving meanwhile)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        work()
        if condition():
            return True
        time.sleep(0.1)
    return False


__all__ = ["settings", "wait_until", "work"]
