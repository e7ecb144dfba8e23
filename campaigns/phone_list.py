"""Read an uploaded list of phone numbers that picks a campaign's audience.

The file is CSV: either one column of numbers, with or without a header, or several
columns with one of them named like a phone column ("Phone", "Mobile", "MSISDN", as in the
contact import). Each number is normalized to E.164 with `normalize_phone`. Rows that do
not hold a valid number are reported with the reason, and repeated numbers count once.
Reading the file, its encoding and delimiter work as in the contact import, whose helpers
this module reuses.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from campaigns.contact_import import (
    FIELD_BY_HEADER,
    SAMPLE_BYTES,
    ImportFileError,
    InvalidPhoneNumber,
    _detect_delimiter,
    _detect_encoding,
    _normalize_header,
    _records,
    normalize_phone,
)
from campaigns.models import Contact, SubAccount
from campaigns.routing import e164

logger = logging.getLogger(__name__)

__all__ = ["ImportFileError", "InvalidRow", "PhoneList", "read_phone_list", "unknown_numbers"]


@dataclass(frozen=True)
class InvalidRow:
    row_number: int
    value: str
    reason: str


@dataclass
class PhoneList:
    # E.164 numbers in file order, each once.
    numbers: list[str] = field(default_factory=list)
    invalid_rows: list[InvalidRow] = field(default_factory=list)
    duplicates: int = 0


def read_phone_list(upload: IO[bytes], region: str | None = None) -> PhoneList:
    """Read and normalize the numbers of an uploaded CSV file.

    `region` is the ISO alpha-2 country of numbers written without a country code.
    Raises ImportFileError, with the problem and the fix, for a file that is not CSV text.
    """
    upload.seek(0)
    stream = io.BytesIO(upload.read())
    encoding = _detect_encoding(stream)
    sample = stream.read(SAMPLE_BYTES).decode(encoding, errors="ignore").removeprefix("\ufeff")
    stream.seek(0)
    delimiter = _detect_delimiter(sample)
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    records = _records(csv.reader(text, delimiter=delimiter))
    rows = [(number, values) for number, values in records if any(v.strip() for v in values)]
    if not rows:
        raise ImportFileError("the file is empty — upload a CSV with one phone number per row")

    column, data_rows = _phone_column(rows, region)
    result = PhoneList()
    seen: set[str] = set()
    for row_number, values in data_rows:
        raw = values[column] if column < len(values) else ""
        try:
            number = normalize_phone(raw, region).e164
        except InvalidPhoneNumber as error:
            result.invalid_rows.append(InvalidRow(row_number, raw, str(error)))
            continue
        if number in seen:
            result.duplicates += 1
            continue
        seen.add(number)
        result.numbers.append(number)
    logger.info(
        "phone list read: %s numbers, %s invalid rows, %s duplicates",
        len(result.numbers),
        len(result.invalid_rows),
        result.duplicates,
    )
    return result


def _phone_column(
    rows: list[tuple[int, list[str]]], region: str | None
) -> tuple[int, list[tuple[int, list[str]]]]:
    """Return the index of the phone column and the rows after any header row."""
    header = rows[0][1]
    for index, name in enumerate(header):
        if FIELD_BY_HEADER.get(_normalize_header(name)) == "phone":
            return index, rows[1:]
    if len(header) > 1:
        found = ", ".join(f"'{name}'" for name in header if name.strip())
        raise ImportFileError(
            f"no phone column (columns found: {found}) — name the column with the phone "
            "numbers 'Phone', 'Mobile', 'Phone Number' or 'MSISDN', or upload one column"
        )
    # One column without a known header name: its first cell is a header unless it
    # contains a digit, so that an invalid number in row 1 is reported, not dropped.
    try:
        normalize_phone(header[0], region)
    except InvalidPhoneNumber:
        if any(ch.isdigit() for ch in header[0]):
            return 0, rows
        return 0, rows[1:]
    return 0, rows


def unknown_numbers(sub_account: SubAccount, numbers: Iterable[str]) -> list[str]:
    """Return the numbers, in order, that no contact of the sub-account has."""
    phones = Contact.objects.filter(sub_account=sub_account).values_list("phone", flat=True)
    known = {e164(phone) for phone in phones}
    return [number for number in numbers if number not in known]
