"""Import an agency's rate card from a CSV file from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import Agency
from reports.rate_import import RateFileError, import_rates


class Command(BaseCommand):
    help = (
        "Import WhatsApp and SMS rates (columns channel, category, country, price) into an"
        " agency's rate card. Prints the counts and the rows that were not imported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file to import")
        parser.add_argument("--agency", required=True, help="id or name of the agency")

    def handle(self, *args: Any, **options: Any) -> None:
        agency = _find_agency(options["agency"])
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path} is not a file; give the path of a CSV rate card.")
        try:
            result = import_rates(agency, path.read_text(encoding="utf-8-sig"))
        except (RateFileError, UnicodeDecodeError) as error:
            raise CommandError(f"{path}: {error}") from error

        self.stdout.write(f"created {result.created}, updated {result.updated}")
        for row in result.rejected:
            self.stdout.write(f"line {row.line}: {row.reason}")
        if result.rejected:
            raise CommandError(f"{len(result.rejected)} rows were not imported (listed above).")


def _find_agency(value: str) -> Agency:
    found = Agency.objects.filter(pk=int(value)) if value.isdigit() else Agency.objects.none()
    agency = found.first() or Agency.objects.filter(name=value).first()
    if agency is None:
        raise CommandError(f"No agency with id or name {value!r}; see the admin's agency list.")
    return agency
