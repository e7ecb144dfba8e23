"""Real `rqworker` processes killed, run side by side, and left without Redis data: each
recipient still gets exactly one WhatsApp message and ends in a final state.

These need PostgreSQL (row locks and concurrent writers across processes) and a Redis
server that every process reaches, so they skip on SQLite.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import django_rq
import pytest
from django.db import connection

from campaigns import reasons
from campaigns.launch import start_launch
from campaigns.models import FINAL_STATUSES, Campaign, CampaignStatus, Recipient
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory
from tests.test_campaign_flow import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            "crash-safety tests need PostgreSQL and a shared Redis: set DATABASE_URL=postgres://... "
            "and REDIS_URL=redis://..."
        )


class Workers:
    """Start real `manage.py rqworker` processes, and run `manage.py sweep`, against the
    test database and Redis.

    The sweep runs as a process too: this test process lives on the sandbox fixture's
    shifted clock, while the workers stamp rows with the real one.
    """

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.started: list[subprocess.Popen] = []

    def __call__(self) -> subprocess.Popen:
        # SimpleWorker runs jobs in the worker process itself: a forking worker's SIGKILL
        # would leave its job running in the orphaned work horse, sending on.
        process = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "events", "default", "--with-scheduler"]
            + ["--worker-class", "rq.worker.SimpleWorker"],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own process group: --with-scheduler forks a scheduler process, which a
            # signal to the worker alone would leave running.
            start_new_session=True,
        )
        self.started.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """Kill a worker and its scheduler with SIGKILL, as a crash of its machine would."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def sweep(self, queued_after: float, unknown_after: float) -> None:
        subprocess.run(
            [sys.executable, "manage.py", "sweep"]
            + ["--queued-after", str(queued_after), "--unknown-after", str(unknown_after)],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
        )

    def stop(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            # The scheduler may outlive its worker; it must not poll the next test's Redis.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def workers(sandbox, settings) -> Iterator[Workers]:
    env = dict(
        os.environ,
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        WHATSAPP_API_BASE_URL=settings.WHATSAPP_API_BASE_URL,
        TWILIO_API_BASE_URL=settings.TWILIO_API_BASE_URL,
        PUBLIC_BASE_URL=settings.PUBLIC_BASE_URL,
        # Small batches and few threads keep the campaign running long enough to be hit.
        DISPATCH_BATCH_SIZE="10",
        DISPATCH_CONCURRENCY="4",
    )
    started = Workers(env)
    yield started
    started.stop()


def make_campaign(sandbox, size: int):
    sandbox.configure(unreachable_percent=0, latency_ms=100, webhook_delay_ms=50)
    sub_account = SubAccountFactory()
    template = TemplateFactory(sub_account=sub_account)
    for n in range(size):
        ContactFactory(sub_account=sub_account, phone=f"+4474001{n:05d}")
    return CampaignFactory(sub_account=sub_account, template=template)


def poll(
    condition: Callable[[], bool], timeout: float = 60.0, every: Callable[[], object] | None = None
) -> bool:
    """Wait for condition() without running jobs here: the worker processes run them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if every is not None:
            every()
        time.sleep(0.5)
    return False


def completed(campaign: Campaign) -> bool:
    campaign.refresh_from_db()
    return campaign.status == CampaignStatus.COMPLETED


def whatsapp_counts(sandbox) -> Counter[str]:
    return Counter(message["to"] for message in sandbox.messages("whatsapp"))


def open_recipients(campaign: Campaign) -> int:
    return Recipient.objects.filter(campaign=campaign).exclude(status__in=FINAL_STATUSES).count()


def test_sigkill_mid_campaign(sandbox, workers):
    campaign = make_campaign(sandbox, 60)
    start_launch(campaign)
    first = workers()
    assert poll(lambda: len(sandbox.messages("whatsapp")) >= 10)

    workers.kill(first)
    sent_before_kill = len(sandbox.messages("whatsapp"))
    # The dead worker's claims, the sends it marked but never made, and its lost job
    # come back from the database.
    workers.sweep(queued_after=0, unknown_after=3600)
    workers()
    assert poll(
        lambda: completed(campaign),
        timeout=90,
        every=lambda: workers.sweep(queued_after=5, unknown_after=20),
    )

    counts = whatsapp_counts(sandbox)
    # A request cut off in the last instant before its socket write cannot be distinguished
    # from one that went out. It ends "outcome unknown" and is not sent again. Each of the
    # worker's DISPATCH_CONCURRENCY sending threads can be in that instant.
    unknown = Recipient.objects.filter(campaign=campaign, reason=reasons.OUTCOME_UNKNOWN)
    assert sent_before_kill < 60
    assert unknown.count() <= 4
    assert len(counts) == 60 - unknown.count()
    assert max(counts.values()) == 1
    assert open_recipients(campaign) == 0


def test_four_workers_no_duplicate(sandbox, workers):
    campaign = make_campaign(sandbox, 200)
    for _ in range(4):
        workers()
    start_launch(campaign)
    assert poll(lambda: completed(campaign), timeout=90)

    counts = whatsapp_counts(sandbox)
    assert len(counts) == 200
    assert max(counts.values()) == 1
    assert open_recipients(campaign) == 0


def test_redis_flush_mid_campaign(sandbox, workers):
    campaign = make_campaign(sandbox, 60)
    start_launch(campaign)
    workers()
    assert poll(lambda: len(sandbox.messages("whatsapp")) >= 10)

    django_rq.get_connection("default").flushdb()
    # The sweeper, run periodically in production, rebuilds the lost work.
    assert poll(
        lambda: completed(campaign),
        timeout=90,
        every=lambda: workers.sweep(queued_after=5, unknown_after=3600),
    )

    counts = whatsapp_counts(sandbox)
    assert len(counts) == 60
    assert max(counts.values()) == 1
