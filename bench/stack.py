"""Shared parts of the benchmarks: the `bench` database, the processes under test, and the
rows of one benchmark campaign.

Every benchmark runs real processes on loopback: the provider sandbox on port 8211,
gunicorn (the webhooks) on 8111, and `manage.py rqworker` SimpleWorkers. They use the
PostgreSQL database `bench` and Redis database 8, which this module empties before each
run. Logs go to var/bench/.

Two people benchmarking on one machine can move a run elsewhere: BENCH_DATABASE names
the database that DATABASE_URL must point at (default `bench`), and BENCH_WEB_PORT and
BENCH_SANDBOX_PORT set the two ports.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "bench"
DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/bench")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/8")
BENCH_DATABASE = os.environ.get("BENCH_DATABASE", "bench")
WEB_PORT = int(os.environ.get("BENCH_WEB_PORT", "8111"))
SANDBOX_PORT = int(os.environ.get("BENCH_SANDBOX_PORT", "8211"))
WEB_URL = f"http://127.0.0.1:{WEB_PORT}"
SANDBOX_URL = f"http://127.0.0.1:{SANDBOX_PORT}"
META_APP_SECRET = "bench-meta-app-secret"
TEMPLATE_NAME = "bench_offer"
TEMPLATE_BODY = "Hi {{1}}, our sale is on."


def setup_django() -> None:
    """Point Django at the bench database and Redis database, then migrate."""
    # The benchmarks write hundreds of thousands of rows, so they run only on a database set
    # aside for them.
    database = urlsplit(DATABASE_URL).path.strip("/")
    if database != BENCH_DATABASE or not DATABASE_URL.startswith("postg"):
        sys.exit(
            f"DATABASE_URL {DATABASE_URL!r} must name the PostgreSQL database "
            f"{BENCH_DATABASE!r}: fix DATABASE_URL or set BENCH_DATABASE"
        )
    create_database(DATABASE_URL)
    os.environ.update(_environment())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def create_database(url: str) -> None:
    """Create the PostgreSQL database that `url` names, unless it exists."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.strip("/")
    maintenance_url = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}")


def _environment() -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "SANDBOX_URL": SANDBOX_URL,
        "PUBLIC_BASE_URL": WEB_URL,
        "META_APP_SECRET": META_APP_SECRET,
        "PYTHONUNBUFFERED": "1",
    }


class Stack:
    """Start the sandbox, gunicorn, `workers` RQ workers for every queue and one for the
    events queue alone; stop them all on exit."""

    def __init__(self, workers: int, web: bool = True) -> None:
        self.workers = workers
        self.web = web
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.session = requests.Session()

    def __enter__(self) -> Stack:
        for port in (SANDBOX_PORT, WEB_PORT):
            if _port_taken(port):
                sys.exit(f"port {port} is in use: stop the process on it (an earlier run?)")
        try:
            self._start()
        except BaseException:
            # __exit__ does not run when __enter__ raises; without this the children live on.
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        _empty_redis()
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        self._spawn(
            "sandbox",
            [python, "-m", "messaging.sandbox", "--port", str(SANDBOX_PORT)]
            # Each request waits out the configured latency in a thread of its own, and 16
            # threads would cap benchmark a at 160 sends/s at 100 ms.
            + ["--threads", "128"]
            + ["--meta-webhook-url", f"{WEB_URL}/webhooks/whatsapp/"],
            {"SANDBOX_META_APP_SECRET": META_APP_SECRET},
        )
        if self.web:
            self._spawn(
                "web",
                [python, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{WEB_PORT}"]
                + ["--worker-class", "gthread", "--workers", "2", "--threads", "8"]
                # By default gunicorn 25.1+ puts this socket in ~/.gunicorn/ and leaves that behind.
                + ["--control-socket", str(LOG_DIR / "gunicorn.ctl")],
            )
        for index in range(self.workers):
            self._spawn(
                f"worker-{index}",
                [python, "manage.py", "rqworker", "events", "default", "--with-scheduler"]
                + ["--worker-class", "rq.worker.SimpleWorker"],
            )
        # As `run.py start` does: webhooks keep a worker of their own while dispatch jobs
        # hold the others.
        self._spawn(
            "events-worker",
            [python, "manage.py", "rqworker", "events", "--worker-class", "rq.worker.SimpleWorker"],
        )
        self._wait_for(f"{SANDBOX_URL}/_sandbox/health")
        if self.web:
            self._wait_for(f"{WEB_URL}/webhooks/whatsapp/?hub.mode=ping", any_status=True)
        self._wait_for_workers()
        self.sandbox("DELETE", "/_sandbox/messages")
        self.sandbox("POST", "/_sandbox/templates", json=_sandbox_template())

    def _wait_for_workers(self, timeout: float = 60.0) -> None:
        """Wait until every worker has registered in Redis, so no measurement includes a
        worker's start-up (Django import and setup)."""
        import redis
        from rq import Worker

        connection = redis.Redis.from_url(REDIS_URL)
        deadline = time.monotonic() + timeout
        while Worker.count(connection=connection) < self.workers + 1:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.workers} RQ workers did not start within {timeout} s")
            time.sleep(0.2)

    def __exit__(self, *exc_info: object) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within 10 s after SIGTERM; killing it")
                process.kill()
                process.wait()

    def pid(self, name: str) -> int:
        return self.processes[name].pid

    def sandbox(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{SANDBOX_URL}{path}", timeout=60, **kwargs)
        if response.status_code >= 400 and response.status_code != 409:
            raise RuntimeError(f"sandbox {method} {path}: {response.status_code} {response.text}")
        return response.json()

    def configure(self, **settings: Any) -> None:
        self.sandbox("PUT", "/_sandbox/config", json=settings)

    def messages(self, channel: str) -> list[dict[str, Any]]:
        return self.sandbox("GET", "/_sandbox/messages", params={"channel": channel})["messages"]

    def _spawn(
        self, name: str, command: list[str], extra_env: dict[str, str] | None = None
    ) -> None:
        env = {**os.environ, **_environment(), **(extra_env or {})}
        log = open(LOG_DIR / f"{name}.log", "ab")  # noqa: SIM115 - the child keeps it open
        self.processes[name] = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )

    def _wait_for(self, url: str, any_status: bool = False, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited at startup; see {LOG_DIR / name}.log")
            try:
                response = self.session.get(url, timeout=3)
                if any_status or response.ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not respond within {timeout:.0f} s")


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _empty_redis() -> None:
    import redis

    # Database 8 belongs to the benchmarks alone; see the module docstring.
    redis.Redis.from_url(REDIS_URL).flushdb()


def _sandbox_template() -> dict[str, str]:
    return {
        "name": TEMPLATE_NAME,
        "language": "en_US",
        "category": "MARKETING",
        "body": TEMPLATE_BODY,
    }


def make_campaign(
    label: str,
    recipients: int,
    rate: int = 100_000,
    first_number: int = 0,
    sms_rate: int | None = None,
) -> Any:
    """Create a sub-account with `recipients` GB mobile contacts and a draft campaign.

    Each call makes a new sub-account with its own WhatsApp number id, so pacing keys of
    earlier runs do not apply. `rate` is the WhatsApp messages/s of the sub-account, and
    `sms_rate` its SMS messages/s (default: the same).
    """
    from django.db import connection

    from campaigns.models import Agency, Campaign, SubAccount, Template

    stamp = f"{label} {time.time_ns()}"
    agency, _ = Agency.objects.get_or_create(name="Bench agency")
    sub_account = SubAccount.objects.create(
        agency=agency,
        name=stamp,
        whatsapp_phone_number_id=str(time.time_ns())[-12:],
        whatsapp_access_token="bench-token",
        whatsapp_messages_per_second=rate,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="bench-twilio-token",
        sms_from_number="+15550100002",
        sms_messages_per_second=sms_rate or rate,
    )
    template = Template.objects.create(
        sub_account=sub_account,
        name=TEMPLATE_NAME,
        language="en_US",
        category="MARKETING",
        status="APPROVED",
        body=TEMPLATE_BODY,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO campaigns_contact (sub_account_id, phone, first_name, last_name, email,
              country, tags, whatsapp_opt_out_source, sms_opt_out_source, line_type,
              created_at, updated_at)
            SELECT %s, '+4474' || lpad((%s + i)::text, 8, '0'), 'Ana', '', '', 'GB', '[]',
              '', '', 'unknown', now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [sub_account.pk, first_number, recipients],
        )
    return Campaign.objects.create(
        sub_account=sub_account,
        name=stamp,
        template=template,
        variables=["contact.first_name"],
        fallback_text="Hi {first_name}, our sale is on. Reply STOP to opt out.",
    )


def cancel(campaign: Any) -> None:
    """Stop a campaign that the benchmark no longer watches, so workers stop sending."""
    from campaigns.models import Campaign

    Campaign.objects.filter(pk=campaign.pk).update(status="cancelled")


def wait_for_count(stack: Stack, channel: str, count: int, timeout: float) -> list[dict]:
    """Poll the sandbox log until it has `count` messages of `channel` or time is up."""
    deadline = time.monotonic() + timeout
    while True:
        messages = stack.messages(channel)
        if len(messages) >= count or time.monotonic() >= deadline:
            return messages
        time.sleep(1.0)


def rate_of(messages: list[dict]) -> float:
    """Return messages/s between the first and the last entry of a sandbox log."""
    from datetime import datetime

    if len(messages) < 2:
        return 0.0
    times = sorted(datetime.fromisoformat(m["time"].replace("Z", "+00:00")) for m in messages)
    span = (times[-1] - times[0]).total_seconds()
    return (len(times) - 1) / span if span else 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
