"""Import a CSV file of contacts into one sub-account from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from campaigns.contact_import import ImportFileError, ImportResult, RejectedRow, import_contacts
from campaigns.models import SubAccount

# Characters of a value shown in the table. The --rejected-csv file keeps the whole value.
VALUE_WIDTH = 30


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV file (a header row with at least a phone column) into a"
        " sub-account. Prints the counts and the rows that were not imported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file to import")
        parser.add_argument(
            "--sub-account",
            required=True,
            help="id or name of the sub-account that receives the contacts",
        )
        parser.add_argument(
            "--default-region",
            help=(
                "two-letter country code of numbers without a country code, for rows"
                " without a usable Country column, for example GB"
            ),
        )
        parser.add_argument(
            "--rejected-csv",
            type=Path,
            help=(
                "write the rows not imported (rejected and duplicates) to this CSV file,"
                " with Row and Reason columns"
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sub_account = _find_sub_account(options["sub_account"])
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"file not found: {path}")

        try:
            result = import_contacts(sub_account, path, default_region=options["default_region"])
        except ImportFileError as error:
            raise CommandError(f"{path} was not imported: {error}") from error

        self._print_counts(result)
        self._print_table("Rejected rows", result.rejected_rows)
        self._print_table("Duplicate rows", result.duplicate_rows)
        if options["verbosity"] >= 2:
            for note in result.notes:
                self.stdout.write(f"row {note.row_number}: {note.note}")

        if options["rejected_csv"]:
            # utf-8-sig, so that Excel shows names with accents correctly.
            with open(options["rejected_csv"], "w", encoding="utf-8-sig", newline="") as out:
                result.write_rejected_csv(out)
            self.stdout.write(f"Rows not imported written to {options['rejected_csv']}")

    def _print_counts(self, result: ImportResult) -> None:
        self.stdout.write(
            f"created: {result.created}\n"
            f"updated: {result.updated}\n"
            f"duplicates: {result.duplicates}\n"
            f"rejected: {result.rejected}\n"
            f"new WhatsApp opt-outs: {result.whatsapp_opt_outs}\n"
            f"new SMS opt-outs: {result.sms_opt_outs}\n"
            f"notes: {len(result.notes)}"
            + ("" if not result.notes else " (run with -v 2 to list them)")
        )
        if result.ignored_columns:
            self.stdout.write(f"columns not imported: {', '.join(result.ignored_columns)}")

    def _print_table(self, title: str, rows: list[RejectedRow]) -> None:
        if not rows:
            return
        self.stdout.write(f"\n{title}:")
        self.stdout.write(f"{'row':>6}  {'value':<{VALUE_WIDTH}}  reason")
        for row in rows:
            value = row.value
            if len(value) > VALUE_WIDTH:
                value = value[: VALUE_WIDTH - 1] + "…"
            self.stdout.write(f"{row.row_number:>6}  {value:<{VALUE_WIDTH}}  {row.reason}")


def _find_sub_account(key: str) -> SubAccount:
    """Return the sub-account with id `key`, or else the only one named `key`."""
    if key.isdigit():
        sub_account = SubAccount.objects.select_related("agency").filter(pk=int(key)).first()
        if sub_account is not None:
            return sub_account

    matches = list(SubAccount.objects.select_related("agency").filter(name=key)[:10])
    if not matches:
        raise CommandError(f"sub-account not found: '{key}' — pass an existing id or name")
    if len(matches) > 1:
        choices = ", ".join(f"{match.pk} ({match})" for match in matches)
        raise CommandError(
            f"sub-account name '{key}' matches several sub-accounts: {choices} — pass the id"
        )
    return matches[0]
