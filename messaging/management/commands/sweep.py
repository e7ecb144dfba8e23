"""Run the sweeper once, or every --every seconds until stopped."""

import logging
import time

from django.core.management.base import BaseCommand, CommandParser

from messaging.sweeper import sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Release work lost with a worker or with Redis, from the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--every",
            type=float,
            default=0,
            help="Seconds between sweeps; 0 (the default) sweeps once and exits.",
        )

    def handle(self, *args, every: float, **options) -> None:
        if every < 0:
            raise ValueError(f"invalid --every {every!r}: give 0 or a positive number of seconds")
        while True:
            try:
                report = sweep()
            except Exception:
                if not every:
                    raise
                logger.exception("sweep failed; trying again in %s s", every)
            else:
                # A periodic sweep reports through the sweeper's own log line only.
                if not every:
                    self.stdout.write(
                        f"released {report.released}, unknown {report.unknown}, "
                        f"timed out {report.timed_out}, "
                        f"dispatches {report.dispatches}, launches {report.launches}"
                    )
            if not every:
                return
            time.sleep(every)
