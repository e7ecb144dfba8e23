"""Command line: `python -m messaging.sandbox --port 8025 --meta-webhook-url URL ...`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
from typing import Any

import waitress

from .app import Sandbox, SandboxApp
from .urls import is_loopback_host, is_loopback_url, redact_url
from .webhooks import WebhookDispatcher

logger = logging.getLogger("messaging.sandbox")


def build_parser() -> argparse.ArgumentParser:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        prog="python -m messaging.sandbox",
        description="Fake WhatsApp Cloud API and Twilio Messages API for local runs and tests.",
    )
    parser.add_argument(
        "--host",
        default=env("SANDBOX_HOST", "127.0.0.1"),
        help="loopback address to listen on (default 127.0.0.1; env SANDBOX_HOST)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=int(env("SANDBOX_PORT", "8025")),
        help="TCP port to listen on; 0 picks a free one (default 8025; env SANDBOX_PORT)",
    )
    parser.add_argument(
        "--meta-webhook-url",
        default=env("SANDBOX_META_WEBHOOK_URL"),
        help="loopback URL that receives WhatsApp webhooks (env SANDBOX_META_WEBHOOK_URL)",
    )
    parser.add_argument(
        "--meta-app-secret",
        default=env("SANDBOX_META_APP_SECRET"),
        help="Meta app secret that signs X-Hub-Signature-256 (env SANDBOX_META_APP_SECRET)",
    )
    parser.add_argument(
        "--twilio-inbound-url",
        default=env("SANDBOX_TWILIO_INBOUND_URL"),
        help="loopback URL that receives inbound SMS webhooks (env SANDBOX_TWILIO_INBOUND_URL)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=16,
        help="HTTP worker threads; hung requests each hold one (default 16)",
    )
    parser.add_argument(
        "--webhook-workers",
        type=int,
        default=8,
        help="threads that POST webhooks concurrently (default 8)",
    )
    return parser


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with an error unless every address the sandbox uses is on this machine."""
    if not is_loopback_host(args.host):
        parser.error(f"--host {args.host!r} is not a loopback address; use 127.0.0.1 or ::1")
    if not args.meta_webhook_url:
        parser.error("--meta-webhook-url (or SANDBOX_META_WEBHOOK_URL) is required")
    if not args.meta_app_secret:
        parser.error("--meta-app-secret (or SANDBOX_META_APP_SECRET) is required")
    urls = [("--meta-webhook-url", args.meta_webhook_url)]
    if args.twilio_inbound_url:
        urls.append(("--twilio-inbound-url", args.twilio_inbound_url))
    for option, url in urls:
        if not is_loopback_url(url):
            parser.error(
                f"{option} {redact_url(url)!r} must be an http(s) URL on localhost, "
                "127.0.0.0/8 or ::1"
            )


def _raise_system_exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_arguments(parser, args)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    dispatcher = WebhookDispatcher(args.meta_app_secret, workers=args.webhook_workers)
    sandbox = Sandbox(dispatcher, args.meta_webhook_url, args.twilio_inbound_url)
    server = waitress.create_server(
        SandboxApp(sandbox),
        host=args.host,
        port=args.port,
        threads=args.threads,
        ident="switchback-sandbox",
        # Benchmarks open many keep-alive connections at once.
        connection_limit=1000,
        backlog=2048,
    )
    dispatcher.start()
    signal.signal(signal.SIGTERM, _raise_system_exit)

    host = f"[{args.host}]" if ":" in args.host else args.host
    logger.info(
        "Sandbox listening on http://%s:%s (WhatsApp webhooks to %s, SMS inbound to %s)",
        host,
        server.effective_port,
        redact_url(args.meta_webhook_url),
        redact_url(args.twilio_inbound_url) if args.twilio_inbound_url else "none",
    )
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        dispatcher.stop()
        logger.info("Sandbox stopped")


if __name__ == "__main__":
    main()
