"""Run the sandbox as a subprocess from tests: `with SandboxProcess(url) as sandbox: ...`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import requests

# The directory that contains the `messaging` package, put on the child's PYTHONPATH.
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """Return a loopback port that was free a moment ago (another process may still take it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SandboxProcess:
    """Start `python -m messaging.sandbox` on a free loopback port; stop it on exit.

    `url` is the base URL for both providers' clients, e.g. f"{url}/v21.0/..." and
    f"{url}/2010-04-01/Accounts/...". The child's output goes to a temporary file,
    readable with `log_text()`.
    """

    def __init__(
        self,
        meta_webhook_url: str,
        meta_app_secret: str = "sandbox-app-secret",
        twilio_inbound_url: str | None = None,
        startup_timeout: float = 10.0,
        extra_args: list[str] | None = None,
    ) -> None:
        self.meta_webhook_url = meta_webhook_url
        self.meta_app_secret = meta_app_secret
        self.twilio_inbound_url = twilio_inbound_url
        self.startup_timeout = startup_timeout
        self.extra_args = extra_args or []
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile()
        self._session = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxProcess:
        self.port = free_port()
        command = [
            sys.executable,
            "-m",
            "messaging.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--meta-webhook-url",
            self.meta_webhook_url,
            *self.extra_args,
        ]
        env = dict(os.environ)
        if self.twilio_inbound_url:
            command += ["--twilio-inbound-url", self.twilio_inbound_url]
        else:
            env.pop("SANDBOX_TWILIO_INBOUND_URL", None)
        # The secret goes through the environment so it does not show in `ps` output.
        env["SANDBOX_META_APP_SECRET"] = self.meta_app_secret
        env["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])
        )
        self._process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT
        )
        self._wait_until_healthy()
        return self

    def _wait_until_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self.stop()
                raise RuntimeError(f"sandbox exited during startup:\n{self.log_text()}")
            try:
                if self._session.get(f"{self.url}/_sandbox/health", timeout=1).ok:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"sandbox did not respond to /_sandbox/health within {self.startup_timeout} s:\n"
            f"{self.log_text()}"
        )

    def stop(self) -> None:
        """Terminate the child, then kill it if it has not exited after 5 seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
        self._session.close()

    def log_text(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._session.request(method, f"{self.url}{path}", timeout=10, **kwargs)
        if not response.ok:
            raise RuntimeError(
                f"{method} {path} failed with {response.status_code}: {response.text}"
            )
        return response.json()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Replace the given config keys (see messaging.sandbox.config.DEFAULTS) and return all."""
        return self._call("PUT", "/_sandbox/config", json=settings)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/_sandbox/config")

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        params = {"channel": channel} if channel else None
        return self._call("GET", "/_sandbox/messages", params=params)["messages"]

    def reset(self) -> None:
        """Restore the default config and clear the message log, counters and pending webhooks."""
        self._call("DELETE", "/_sandbox/config")
        self._call("DELETE", "/_sandbox/messages")

    def add_template(
        self,
        name: str,
        body: str,
        language: str = "en_US",
        category: str = "MARKETING",
        status: str = "APPROVED",
    ) -> dict[str, Any]:
        """Add a template and return it as the Graph API lists it (with its `id`)."""
        template = {
            "name": name,
            "language": language,
            "category": category,
            "status": status,
            "body": body,
        }
        return self._call("POST", "/_sandbox/templates", json=template)

    def template_event(
        self, template_id: str, event: str, reason: str = "NONE", title: str | None = None
    ) -> dict[str, Any]:
        """Apply a review event (PAUSED, DISABLED, APPROVED, ...) and send its webhook."""
        payload: dict[str, Any] = {"event": event, "reason": reason}
        if title:
            payload["title"] = title
        return self._call("POST", f"/_sandbox/templates/{template_id}/event", json=payload)
