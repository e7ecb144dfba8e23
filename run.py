#!/usr/bin/env python3
"""Set up and run Switchback with nothing but Python installed.

    python3 run.py start   # web on 127.0.0.1:8000, worker, provider sandbox, demo campaign
    python3 run.py test    # the test suite (pytest arguments may follow)

Both create .venv/, install the project into it when pyproject.toml changed, and apply
migrations. Without DATABASE_URL they use SQLite under var/; without REDIS_URL they start
a private Redis server under var/. Only the standard library is used before the
virtual environment exists.
"""

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
VAR = ROOT / "var"
WEB_ADDRESS = os.environ.get("SWITCHBACK_ADDRESS", "127.0.0.1:8000")
SANDBOX_PORT = os.environ.get("SANDBOX_PORT", "8025")


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command not in ("start", "test"):
        print(__doc__)
        return 2
    if command == "start":
        # Before anything starts, so that nothing is left running when a port is taken.
        _require_free_port(WEB_ADDRESS, "SWITCHBACK_ADDRESS")
        _require_free_port(f"127.0.0.1:{SANDBOX_PORT}", "SANDBOX_PORT")
    install()
    env = environment()
    if command == "test":
        return run_tests(env, sys.argv[2:])
    return start(env)


def install() -> None:
    if not PYTHON.exists():
        print("creating the virtual environment in .venv/")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    stamp = VENV / ".installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    print("installing Switchback and its dependencies into .venv/")
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
    stamp.write_text(wanted)


def environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    env.setdefault("PYTHONUNBUFFERED", "1")
    VAR.mkdir(exist_ok=True)
    if not env.get("REDIS_URL"):
        result = subprocess.run(
            [str(PYTHON), "-m", "config.private_redis"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        env["REDIS_URL"] = result.stdout.strip().splitlines()[-1]
    return env


def manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYTHON), "manage.py", *args], cwd=ROOT, env=env, **kwargs)


def run_tests(env: dict[str, str], pytest_args: list[str]) -> int:
    try:
        command = [str(PYTHON), "-m", "pytest", *pytest_args]
        return subprocess.run(command, cwd=ROOT, env=env).returncode
    finally:
        stop_private_redis(env)


def start(env: dict[str, str]) -> int:
    # A supervisor stops us with SIGTERM: treat it like Ctrl-C so the children stop too.
    # SIGINT is set as well, because a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    manage(env, "migrate", "--no-input", check=True)
    manage(env, "collectstatic", "--no-input", "--verbosity", "0", check=True)
    env.setdefault("SANDBOX_URL", f"http://127.0.0.1:{SANDBOX_PORT}")
    env.setdefault("PUBLIC_BASE_URL", f"http://{WEB_ADDRESS}")
    # The sandbox signs webhooks with the app's Meta secret. It goes through the environment
    # so it never shows in `ps`; verbosity 0 keeps the shell's own notices off stdout.
    env["SANDBOX_META_APP_SECRET"] = (
        manage(
            env,
            "shell",
            "--verbosity",
            "0",
            "-c",
            "from django.conf import settings; print(settings.META_APP_SECRET)",
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )

    children = [
        spawn(
            "sandbox",
            [
                str(PYTHON),
                "-m",
                "messaging.sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                SANDBOX_PORT,
                "--meta-webhook-url",
                f"http://{WEB_ADDRESS}/webhooks/whatsapp/",
            ],
            env,
        ),
        # SimpleWorker runs jobs without forking: dispatch jobs are batches, and a fork per
        # webhook job costs more than the job itself.
        spawn(
            "worker",
            [
                str(PYTHON),
                "manage.py",
                "rqworker",
                "events",
                "default",
                "--with-scheduler",
                "--worker-class",
                "rq.worker.SimpleWorker",
                "--verbosity",
                "0",
            ],
            env,
        ),
        # Applies webhooks while the other worker may be busy with a long dispatch job.
        spawn(
            "events worker",
            [
                str(PYTHON),
                "manage.py",
                "rqworker",
                "events",
                "--worker-class",
                "rq.worker.SimpleWorker",
                "--verbosity",
                "0",
            ],
            env,
        ),
        # Re-queues work lost with Redis and settles attempts that never got a response.
        spawn("sweeper", [str(PYTHON), "manage.py", "sweep", "--every", "30"], env),
        spawn("web", web_command(WEB_ADDRESS, VAR), env),
    ]
    try:
        wait_for(f"http://{WEB_ADDRESS}/admin/login/")
        manage(env, "ensure_admin", check=True)
        manage(env, "demo", check=False)
        print(f"\nSwitchback is running: http://{WEB_ADDRESS}/admin/  (Ctrl-C stops everything)")
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        print("a process stopped; shutting down the others")
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        stop_private_redis(env)


def web_command(address: str, var: Path) -> list[str]:
    """Return the gunicorn command line that serves the app on address."""
    return [
        str(PYTHON),
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        address,
        "--worker-class",
        "gthread",
        "--workers",
        "2",
        "--threads",
        "8",
        # gunicorn 25.1 and later open a control socket for `gunicornc`. By default it is
        # under $XDG_RUNTIME_DIR or else ~/.gunicorn/, a directory that stays after exit.
        "--control-socket",
        str(var / "gunicorn.ctl"),
    ]


def _require_free_port(address: str, setting: str) -> None:
    host, port = address.rsplit(":", 1)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if probe.connect_ex((host, int(port))) == 0:
            raise SystemExit(
                f"{address} is already in use (another Switchback, or another program): "
                f"stop it, or set {setting} to a free one"
            )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def stop_private_redis(env: dict[str, str]) -> None:
    if os.environ.get("REDIS_URL"):
        return
    subprocess.run(
        [str(PYTHON), "-c", "from config import private_redis; private_redis.stop()"],
        cwd=ROOT,
        env=env,
        check=False,
    )


def spawn(name: str, command: list[str], env: dict[str, str]) -> subprocess.Popen:
    print(f"starting {name}")
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_for(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            # A cold first request can outlast the 2 s read timeout: that is a retry too.
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"{url} did not respond within {timeout:.0f} s; see the log above"
                ) from None
            time.sleep(0.3)


if __name__ == "__main__":
    sys.exit(main())
