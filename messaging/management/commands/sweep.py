"""Run the sweeper once, or every --every seconds until stopped."""

import logging
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

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
        parser.add_argument(
            "--queued-after",
            type=float,
            default=None,
            help="Seconds after which unsent claimed work is released (default: "
            f"{settings.SWEEP_QUEUED_AFTER_SECONDS:g}, from SWEEP_QUEUED_AFTER_SECONDS).",
        )
        parser.add_argument(
            "--unknown-after",
            type=float,
            default=None,
            help="Seconds after which a send with no response or webhook is marked unknown "
            f"(default: {settings.SWEEP_UNKNOWN_AFTER_SECONDS:g}, from "
            "SWEEP_UNKNOWN_AFTER_SECONDS).",
        )

    def handle(
        self,
        *args,
        every: float,
        queued_after: float | None,
        unknown_after: float | None,
        **options,
    ) -> None:
        for name, value in (
            ("--every", every),
            ("--queued-after", queued_after),
            ("--unknown-after", unknown_after),
        ):
            if value is not None and value < 0:
                raise CommandError(
                    f"invalid {name} {value!r}: give 0 or a positive number of seconds"
                )
        while True:
            try:
                report = sweep(queued_after, unknown_after)
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
