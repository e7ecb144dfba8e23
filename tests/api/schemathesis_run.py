"""Run schemathesis against /api/schema/ of a server on a loopback port (`make schemathesis`).

Starts the app with a fresh SQLite database under var/schemathesis/, seeds one
sub-account with an API key, a template, contacts and a draft campaign, then lets
schemathesis generate requests for every operation. It fails on any 5xx and on any
response that does not match the schema. No RQ worker runs, so nothing queued by the
requests (launches, imports, webhooks) ever leaves the machine. Extra arguments go to
`schemathesis run`, e.g. `--max-examples 200`.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WORK_DIR = ROOT / "var" / "schemathesis"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)

SEED = """
from campaigns.models import ApiKey, Contact
from tests.factories import CampaignFactory, ContactFactory, SubAccountFactory, TemplateFactory
# No WhatsApp account, so a template sync returns 400 instead of calling a provider.
sub_account = SubAccountFactory(whatsapp_access_token="")
CampaignFactory(sub_account=sub_account, template=TemplateFactory(sub_account=sub_account))
for phone in ("+447400123456", "+447400123457"):
    ContactFactory(sub_account=sub_account, phone=phone)
print(ApiKey.issue(sub_account, "schemathesis")[1])
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            # A request that times out starts the schema build over, so allow it to finish.
            with urllib.request.urlopen(url, timeout=30):
                return
        except (urllib.error.URLError, OSError):
            # OSError covers a read timeout: the first schema request can take longer than
            # the per-request timeout on a busy machine.
            time.sleep(0.2)
    raise SystemExit(f"the app did not respond at {url} within {timeout:.0f} s; see the log above")


def main(extra: list[str]) -> int:
    shutil.rmtree(WORK_DIR, ignore_errors=True)
    WORK_DIR.mkdir(parents=True)
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{WORK_DIR / 'db.sqlite3'}",
        # Requests queue jobs, and a Redis database of their own keeps them out of the others.
        REDIS_URL=env.get("SCHEMATHESIS_REDIS_URL", f"unix://{ROOT}/var/redis/redis.sock?db=3"),
        # Nothing should call a provider. If something did, it would reach a closed port.
        SANDBOX_URL="http://127.0.0.1:9",
        API_THROTTLE_RATE="1000000/minute",
    )
    manage = [PYTHON, "manage.py"]
    subprocess.run([PYTHON, "-m", "config.private_redis"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    api_key = seeded.stdout.strip().splitlines()[-1]

    address = f"127.0.0.1:{free_port()}"
    server = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "config.wsgi", "--bind", address, "--workers", "1"]
        # By default gunicorn 25.1+ puts this socket in ~/.gunicorn/ and leaves that behind.
        + ["--control-socket", str(WORK_DIR / "gunicorn.ctl")],
        cwd=ROOT,
        env=env,
    )
    try:
        wait_for(f"http://{address}/api/schema/")
        command = [
            str(Path(PYTHON).with_name("schemathesis")),
            "run",
            f"http://{address}/api/schema/",
            "--header",
            f"Authorization: Bearer {api_key}",
            "--checks",
            CHECKS,
            "--max-examples",
            "30",
            "--seed",
            "1",
            *extra,
        ]
        # schemathesis keeps its example database in the working directory.
        return subprocess.run(command, cwd=WORK_DIR, env=env).returncode
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
