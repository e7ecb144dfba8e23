"""run.py, the launcher: the web server it starts keeps its runtime files under var/."""

import os
import socket
import subprocess
import time
from pathlib import Path

import run

BOOT_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_control_socket_in_var(tmp_path: Path):
    home, var = tmp_path / "home", tmp_path / "var"
    home.mkdir()
    var.mkdir()
    env = {**os.environ, "HOME": str(home), "DJANGO_SETTINGS_MODULE": "config.settings"}
    # With XDG_RUNTIME_DIR set, gunicorn's default would not be under HOME at all.
    env.pop("XDG_RUNTIME_DIR", None)
    command = run.web_command(f"127.0.0.1:{free_port()}", var)

    server = subprocess.Popen(
        command, cwd=run.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + BOOT_SECONDS
        while not (var / "gunicorn.ctl").exists() and server.poll() is None:
            assert time.monotonic() < deadline, "gunicorn opened no control socket in var/"
            time.sleep(0.1)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)

    assert server.returncode == 0, errors.decode()
    assert not (home / ".gunicorn").exists()
