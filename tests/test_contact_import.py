"""Contact import from CSV: the service, the sample CRM export and the management command."""

import csv
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.contact_import import (
    ImportFileError,
    InvalidPhoneNumber,
    import_contacts,
    normalize_phone,
)
from campaigns.management.commands.import_contacts import Command as ImportContactsCommand
from campaigns.models import Contact, LineType
from tests.factories import ContactFactory, SubAccountFactory

CRM_EXPORT = Path(__file__).resolve().parents[1] / "campaigns/demo_data/contacts-crm-export.csv"

# Counts of the sample CRM export, worked out by reading its Phone column value by value.
# It has 2,000 rows below the header. 120 rows cannot be used: 25 "+999 123 4567",
# 19 "n/a", 18 "12345", 17 empty, 16 "+1 (555) CALL-NOW" and 16 "0000000000".
# The other 9 are numbers without a country code that are not valid for the row's Country,
# such as "(502) 555-0136" with MX or "447400973337" with US. Of the 1,880 usable rows,
# 65 repeat the E.164 number of an earlier row, which leaves 1,815 contacts.
CRM_CREATED = 1815
CRM_DUPLICATES = 65
CRM_REJECTED = 120


def csv_bytes(text: str, *, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO(text.encode(encoding))


def contact(sub_account, phone: str) -> Contact:
    return Contact.objects.get(sub_account=sub_account, phone=phone)


@pytest.fixture
def sub_account():
    return SubAccountFactory()


@pytest.fixture
def crm_export() -> Path:
    if not CRM_EXPORT.is_file():
        pytest.skip(f"sample CRM export not found at {CRM_EXPORT}")
    return CRM_EXPORT


# normalize_phone


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+44 7400 123456", None, "+447400123456"),
        ("0044 7400 123456", "US", "+447400123456"),
        ("07400 123456", "GB", "+447400123456"),
        ("(201) 555-0123", "US", "+12015550123"),
        ("050 106 7349", "AE", "+971501067349"),
        ("011 44 7400 123456", "US", "+447400123456"),
        ("+1 201-555-0123 ext. 12", None, "+12015550123"),
        # The country code without "+": a German mobile, not the landline a national
        # reading would make of it.
        ("4915123208456", "DE", "+4915123208456"),
        # A national mobile that starts with the country code's digits stays national.
        ("3931234567", "IT", "+393931234567"),
    ],
)
def test_normalize_phone_formats(raw, region, e164):
    assert normalize_phone(raw, region).e164 == e164


def test_normalize_phone_extension_kept_apart():
    phone = normalize_phone("07400 123456 ext. 12", "GB")

    assert phone.e164 == "+447400123456"
    assert phone.extension == "12"


def test_normalize_phone_country_of_number():
    phone = normalize_phone("+1 787-555-0122", "US")

    assert phone.country == "PR"


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        (
            "12345",
            "GB",
            "not a valid phone number for GB: '12345' — use international format like"
            " +447400123456",
        ),
        ("", "GB", "phone is empty"),
        ("n/a", "US", "'n/a' is not a phone number"),
        ("+999 123 4567", None, "unknown country calling code in '+999 123 4567'"),
        ("07400 123456", None, "no country for '07400 123456'"),
        ("4.47401E+11", "GB", "scientific notation"),
        (
            "447400973337",
            "US",
            "if it includes the country code, write it as +447400973337",
        ),
    ],
)
def test_normalize_phone_reasons(raw, region, reason):
    with pytest.raises(InvalidPhoneNumber) as raised:
        normalize_phone(raw, region)

    assert reason in str(raised.value)


# The sample CRM export


@pytest.mark.django_db
def test_crm_export_counts(sub_account, crm_export):
    result = import_contacts(sub_account, crm_export)

    assert result.created == CRM_CREATED
    assert result.updated == 0
    assert result.duplicates == CRM_DUPLICATES
    assert result.rejected == CRM_REJECTED
    assert Contact.objects.filter(sub_account=sub_account).count() == CRM_CREATED


@pytest.mark.django_db
def test_crm_export_file_format(sub_account, crm_export):
    result = import_contacts(sub_account, crm_export)

    assert result.encoding == "utf-8-sig"
    assert result.delimiter == ","
    assert result.columns == ["First Name", "Last Name", "Phone", "Email", "Country", "Tags"]
    assert result.ignored_columns == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("row_number", "e164"),
    [
        (4, "+447400909960"),  # 00447400909960, GB
        (10, "+447400555979"),  # 07400 555979, GB
        (11, "+12525550193"),  # (252) 555-0193, US
        (22, "+971501148525"),  # 050 114 8525, AE
        (25, "+5511961735379"),  # 005511961735379, BR
        (28, "+17175550184"),  # 0017175550184, US, where 00 is not the US call prefix
        (41, "+16565550186"),  # 16565550186, US
    ],
)
def test_crm_export_normalized_phones(sub_account, crm_export, row_number, e164):
    import_contacts(sub_account, crm_export)

    with crm_export.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file))
    first_name, last_name = rows[row_number - 1][:2]
    stored = contact(sub_account, e164)
    assert (stored.first_name, stored.last_name) == (first_name, last_name)


@pytest.mark.django_db
def test_crm_export_junk_rows(sub_account, crm_export):
    result = import_contacts(sub_account, crm_export)
    rejected = {row.row_number: row for row in result.rejected_rows}

    assert rejected[44].value == "+999 123 4567"
    assert "unknown country calling code" in rejected[44].reason
    assert rejected[45].value == "n/a"
    assert "is not a phone number" in rejected[45].reason
    assert rejected[149].value == ""
    assert "phone is empty" in rejected[149].reason
    assert rejected[194].value == "12345"
    assert rejected[194].reason.startswith("not a valid phone number for BR: '12345'")
    assert rejected[62].reason.startswith("not a valid phone number for MX: '(502) 555-0136'")
    assert rejected[44].column == "Phone"


@pytest.mark.django_db
def test_crm_export_duplicate_rows(sub_account, crm_export):
    result = import_contacts(sub_account, crm_export)
    duplicates = {row.row_number: row for row in result.duplicate_rows}

    # Row 4 contains 00447400909960 and row 15 contains +447400909960.
    assert duplicates[15].duplicate_of == 4
    assert duplicates[15].value == "+447400909960"
    assert duplicates[15].reason.startswith("duplicate of row 4")
    assert contact(sub_account, "+447400909960").first_name == "David"


@pytest.mark.django_db
def test_crm_export_notes(sub_account, crm_export):
    result = import_contacts(sub_account, crm_export)
    notes = {note.row_number: note.note for note in result.notes}

    assert "extension 12 dropped" in notes[18]
    assert contact(sub_account, "+4915123372159").country == "DE"
    # Every row whose Country differs from its number's country repeats an earlier row, and
    # duplicates get no notes: row 15 has +447400909960 with Country BR.
    assert 15 not in notes
    assert contact(sub_account, "+447400909960").country == "GB"


@pytest.mark.django_db
def test_crm_export_reimport(sub_account, crm_export):
    import_contacts(sub_account, crm_export)
    opted_out = contact(sub_account, "+447400909960")
    opted_out.opt_out("whatsapp", "keyword")
    opted_out.save()

    result = import_contacts(sub_account, crm_export)

    assert result.created == 0
    assert result.updated == CRM_CREATED
    assert result.duplicates == CRM_DUPLICATES
    assert Contact.objects.filter(sub_account=sub_account).count() == CRM_CREATED
    opted_out.refresh_from_db()
    assert opted_out.whatsapp_opt_out_at is not None
    assert opted_out.whatsapp_opt_out_source == "keyword"


@pytest.mark.django_db
def test_crm_export_query_count(sub_account, crm_export, django_assert_max_num_queries):
    # Batches of 500 rows, never a query per row. On SQLite Django splits each INSERT
    # further, at 999 parameters, which makes about 30 queries for these 1,815 contacts.
    with django_assert_max_num_queries(40):
        import_contacts(sub_account, crm_export)


# File formats


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "delimiter"),
    [
        (b"\xef\xbb\xbfPhone,First Name\r\n+447400123456,Ana\r\n", ","),
        (b"Phone,First Name\n+447400123456,Ana\n", ","),
        (b"Phone;First Name\n+447400123456;Ana\n", ";"),
        (b"Phone\tFirst Name\n+447400123456\tAna\n", "\t"),
        (b"\xef\xbb\xbfPhone;First Name\r\n+447400123456;Ana\r\n", ";"),
    ],
)
def test_import_file_formats(sub_account, data, delimiter):
    result = import_contacts(sub_account, io.BytesIO(data))

    assert result.delimiter == delimiter
    assert result.created == 1
    assert contact(sub_account, "+447400123456").first_name == "Ana"


@pytest.mark.django_db
def test_import_single_column(sub_account):
    result = import_contacts(sub_account, csv_bytes("Phone\n+447400123456\n+12015550123\n"))

    assert result.created == 2


@pytest.mark.django_db
def test_import_cp1252_fallback(sub_account):
    data = csv_bytes("Phone,First Name\n+447400123456,José\n", encoding="cp1252")

    result = import_contacts(sub_account, data)

    assert result.encoding == "cp1252"
    assert contact(sub_account, "+447400123456").first_name == "José"


@pytest.mark.django_db
def test_import_utf16_text(sub_account):
    data = csv_bytes("Phone\tFirst Name\r\n+447400123456\tZoë\r\n", encoding="utf-16")

    result = import_contacts(sub_account, data)

    assert result.delimiter == "\t"
    assert contact(sub_account, "+447400123456").first_name == "Zoë"


@pytest.mark.django_db
def test_import_header_aliases(sub_account):
    data = csv_bytes(
        "  MOBILE ,FirstName,Surname,E-Mail,Country Code,Labels,Company\n"
        "07400 123456,Ana,Silva,ana@example.com,gb,vip; lead,Acme\n"
    )

    result = import_contacts(sub_account, data)

    stored = contact(sub_account, "+447400123456")
    assert (stored.first_name, stored.last_name) == ("Ana", "Silva")
    assert stored.email == "ana@example.com"
    assert stored.country == "GB"
    assert stored.tags == ["vip", "lead"]
    assert result.ignored_columns == ["Company"]


@pytest.mark.django_db
def test_import_country_of_number(sub_account):
    data = csv_bytes("Phone,Country\n+1 787-555-0122,US\n")

    result = import_contacts(sub_account, data)

    assert contact(sub_account, "+17875550122").country == "PR"
    assert "Country column is US, but the country of +17875550122 is PR" in result.notes[0].note


@pytest.mark.django_db
def test_import_country_calling_code(sub_account):
    import_contacts(sub_account, csv_bytes("Phone,Country Code\n07400 123456,+44\n"))

    assert contact(sub_account, "+447400123456").country == "GB"


@pytest.mark.django_db
def test_import_unrecognized_country(sub_account):
    data = csv_bytes("Phone,Country\n07400 123456,Britain\n")

    result = import_contacts(sub_account, data)

    assert result.rejected_rows[0].reason.startswith("unrecognized country 'Britain'")


@pytest.mark.django_db
def test_import_default_region(sub_account):
    data = csv_bytes("Phone\n07400 123456\n12345\n")

    result = import_contacts(sub_account, data, default_region="GB")

    assert result.created == 1
    assert contact(sub_account, "+447400123456").country == "GB"
    assert result.rejected_rows[0].row_number == 3


@pytest.mark.django_db
def test_import_without_region(sub_account):
    result = import_contacts(sub_account, csv_bytes("Phone\n07400 123456\n+12015550123\n"))

    assert result.created == 1
    assert "no country for '07400 123456'" in result.rejected_rows[0].reason


@pytest.mark.django_db
def test_import_unknown_default_region(sub_account):
    with pytest.raises(ImportFileError, match="unknown default region 'XX'"):
        import_contacts(sub_account, csv_bytes("Phone\n+447400123456\n"), default_region="XX")


@pytest.mark.django_db
def test_import_row_numbers_count_blank_lines(sub_account):
    data = csv_bytes('Phone,Name\n+447400123456,"two\nlines"\n\n12345,x\n')

    result = import_contacts(sub_account, data, default_region="GB")

    # Header 1, the two-line cell is row 2, the blank line row 3.
    assert result.rejected_rows[0].row_number == 4


@pytest.mark.django_db
def test_import_extra_fields_rejected(sub_account):
    data = csv_bytes("Phone,First Name\n+447400123456,Smith, Jr.\n+447400123457,Ana,,\n")

    result = import_contacts(sub_account, data)

    assert result.rejected_rows[0].row_number == 2
    assert "3 fields but the header has 2" in result.rejected_rows[0].reason
    assert result.created == 1


@pytest.mark.django_db
def test_import_invalid_email_left_out(sub_account):
    data = csv_bytes("Phone,Email\n+447400123456,not an email\n+447400123457,joão@example.com\n")

    result = import_contacts(sub_account, data)

    assert contact(sub_account, "+447400123456").email == ""
    assert contact(sub_account, "+447400123457").email == "joão@example.com"
    assert "email is not valid" in result.notes[0].note


# Updates of stored contacts


@pytest.mark.django_db
def test_update_fills_blanks_only(sub_account):
    ContactFactory(
        sub_account=sub_account,
        phone="+447400123456",
        first_name="",
        last_name="Stored",
        tags=["existing"],
    )
    data = csv_bytes("Phone,First Name,Last Name,Tags\n+447400123456,Ana,Silva,vip|existing\n")

    result = import_contacts(sub_account, data)

    stored = contact(sub_account, "+447400123456")
    assert result.updated == 1
    assert result.created == 0
    assert stored.first_name == "Ana"
    assert stored.last_name == "Stored"
    assert stored.tags == ["existing", "vip"]


@pytest.mark.django_db
def test_update_keeps_learned_line_type(sub_account):
    ContactFactory(sub_account=sub_account, phone="+447400123456", line_type=LineType.LANDLINE)

    import_contacts(sub_account, csv_bytes("Phone\n+447400123456\n"))

    # The import leaves line_type alone: it is learned from provider errors.
    assert contact(sub_account, "+447400123456").line_type == LineType.LANDLINE


@pytest.mark.django_db
def test_update_other_sub_account_untouched(sub_account):
    other = ContactFactory(phone="+447400123456", first_name="")

    result = import_contacts(sub_account, csv_bytes("Phone,First Name\n+447400123456,Ana\n"))

    other.refresh_from_db()
    assert result.created == 1
    assert other.first_name == ""


# Opt-outs


@pytest.mark.django_db
def test_dnd_column_opts_out_both(sub_account):
    data = csv_bytes("Phone,DND\n+447400123451,yes\n+447400123452,No\n+447400123453,\n")

    result = import_contacts(sub_account, data)

    opted_out = contact(sub_account, "+447400123451")
    assert opted_out.whatsapp_opt_out_at is not None
    assert opted_out.sms_opt_out_at is not None
    assert opted_out.whatsapp_opt_out_source == "import"
    assert opted_out.sms_opt_out_source == "import"
    assert contact(sub_account, "+447400123452").whatsapp_opt_out_at is None
    assert contact(sub_account, "+447400123453").sms_opt_out_at is None
    assert result.whatsapp_opt_outs == 1
    assert result.sms_opt_outs == 1


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["yes", "YES", "true", "1", "y", " Y "])
def test_dnd_column_truthy_values(sub_account, value):
    import_contacts(sub_account, csv_bytes(f"Phone,Do Not Disturb\n+447400123456,{value}\n"))

    assert contact(sub_account, "+447400123456").sms_opt_out_at is not None


@pytest.mark.django_db
def test_dnd_column_per_channel(sub_account):
    data = csv_bytes(
        "Phone,WhatsApp Opt-Out,SMS opt out\n+447400123451,yes,no\n+447400123452,,true\n"
    )

    import_contacts(sub_account, data)

    whatsapp_only = contact(sub_account, "+447400123451")
    sms_only = contact(sub_account, "+447400123452")
    assert whatsapp_only.whatsapp_opt_out_at is not None
    assert whatsapp_only.sms_opt_out_at is None
    assert sms_only.whatsapp_opt_out_at is None
    assert sms_only.sms_opt_out_at is not None


@pytest.mark.django_db
def test_dnd_unrecognized_value_rejected(sub_account):
    result = import_contacts(sub_account, csv_bytes("Phone,Opt-out\n+447400123456,maybe\n"))

    assert result.created == 0
    assert result.rejected_rows[0].value == "maybe"
    assert result.rejected_rows[0].column == "Opt-out"
    assert "unrecognized opt-out value 'maybe'" in result.rejected_rows[0].reason


@pytest.mark.django_db
def test_dnd_keeps_stored_opt_out(sub_account):
    stored = ContactFactory(sub_account=sub_account, phone="+447400123456")
    stored.opt_out("sms", "keyword")
    stored.save()
    opted_out_at = stored.sms_opt_out_at

    result = import_contacts(sub_account, csv_bytes("Phone,DND\n+447400123456,no\n"))
    import_contacts(sub_account, csv_bytes("Phone,DND\n+447400123456,yes\n"))

    stored.refresh_from_db()
    assert result.updated == 1
    assert stored.sms_opt_out_at == opted_out_at
    assert stored.sms_opt_out_source == "keyword"
    assert stored.whatsapp_opt_out_source == "import"


@pytest.mark.django_db
def test_dnd_of_duplicate_row_kept(sub_account):
    data = csv_bytes("Phone,DND\n+447400123456,no\n07400 123456,yes\n")

    result = import_contacts(sub_account, data, default_region="GB")

    assert result.duplicate_rows[0].duplicate_of == 2
    assert "opt-out (whatsapp, sms) is kept" in result.duplicate_rows[0].reason
    assert contact(sub_account, "+447400123456").whatsapp_opt_out_at is not None


# Files that cannot be imported


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is binary"),
        (b"PK\x03\x04\x14\x00\x06\x00", "an Excel workbook"),
        (b"Phone,Name\n+447400123456,\x81\x8d\n", "not UTF-8 or Windows-1252"),
        (b"Phone,Name\n", "has a header but no contact rows"),
        (
            b"Name,Email\nAna,ana@example.com\n",
            r"no phone column \(columns found: 'Name', 'Email'\)",
        ),
        (b"Ana,+447400123456,ana@example.com\n", "contains contact data, not column names"),
    ],
)
def test_unreadable_file_rejected(sub_account, data, message):
    with pytest.raises(ImportFileError, match=message):
        import_contacts(sub_account, io.BytesIO(data))

    assert Contact.objects.count() == 0


@pytest.mark.django_db
def test_unreadable_row_rolls_back(sub_account):
    # More rows than one batch, so some contacts are written before the broken row.
    rows = "".join(f"+4474001{index:05d}\n" for index in range(1200))
    data = csv_bytes(f'Phone\n{rows}"{"x" * 200_000}"\n')

    with pytest.raises(ImportFileError, match="not valid CSV at row 1202"):
        import_contacts(sub_account, data)

    assert Contact.objects.count() == 0


# Rejected rows as CSV


@pytest.mark.django_db
def test_rejected_csv(sub_account):
    data = csv_bytes(
        "First Name,Phone,Tags\nAna,+447400123456,vip\nBo,12345,lead\nCy,07400 123456,\n"
    )
    result = import_contacts(sub_account, data, default_region="GB")
    out = io.StringIO()

    result.write_rejected_csv(out)

    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["First Name", "Phone", "Tags", "Row", "Reason"]
    assert rows[1][:4] == ["Bo", "12345", "lead", "3"]
    assert rows[1][4].startswith("not a valid phone number for GB")
    assert rows[2][:4] == ["Cy", "07400 123456", "", "4"]
    assert rows[2][4].startswith("duplicate of row 2")
    assert len(rows) == 3


@pytest.mark.django_db
def test_rejected_csv_without_duplicates(sub_account):
    data = csv_bytes("Phone\n+447400123456\n+447400123456\n")
    result = import_contacts(sub_account, data)
    out = io.StringIO()

    result.write_rejected_csv(out, include_duplicates=False)

    assert out.getvalue().splitlines() == ["Phone,Row,Reason"]


# Management command


@pytest.mark.django_db
def test_command_output(sub_account, crm_export, tmp_path):
    out = io.StringIO()
    rejected_csv = tmp_path / "rejected.csv"

    call_command(
        "import_contacts",
        str(crm_export),
        sub_account=str(sub_account.pk),
        rejected_csv=str(rejected_csv),
        stdout=out,
    )

    output = out.getvalue()
    assert f"created: {CRM_CREATED}\n" in output
    assert "updated: 0\n" in output
    assert f"duplicates: {CRM_DUPLICATES}\n" in output
    assert f"rejected: {CRM_REJECTED}\n" in output
    assert "    44  +999 123 4567" in output
    assert "    15  +447400909960" in output
    with rejected_csv.open(encoding="utf-8-sig", newline="") as file:
        assert len(list(csv.reader(file))) == 1 + CRM_REJECTED + CRM_DUPLICATES


@pytest.mark.django_db
def test_command_sub_account_by_name(sub_account, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("Phone\n+447400123456\n")

    call_command("import_contacts", str(path), sub_account=sub_account.name, stdout=io.StringIO())

    assert contact(sub_account, "+447400123456")


@pytest.mark.django_db
def test_command_default_region(sub_account, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("Phone\n07400 123456\n")

    call_command(
        "import_contacts",
        str(path),
        sub_account=str(sub_account.pk),
        default_region="GB",
        stdout=io.StringIO(),
    )

    assert contact(sub_account, "+447400123456")


@pytest.mark.django_db
def test_command_unknown_sub_account(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("Phone\n+447400123456\n")

    with pytest.raises(CommandError, match="sub-account not found: 'Nobody'"):
        call_command("import_contacts", str(path), sub_account="Nobody")


@pytest.mark.django_db
def test_command_ambiguous_name(tmp_path):
    first = SubAccountFactory(name="Shop")
    SubAccountFactory(name="Shop")
    path = tmp_path / "contacts.csv"
    path.write_text("Phone\n+447400123456\n")

    with pytest.raises(CommandError, match=f"matches several sub-accounts: {first.pk} "):
        call_command("import_contacts", str(path), sub_account="Shop")


@pytest.mark.django_db
def test_command_unreadable_file(sub_account, tmp_path, capsys):
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(b"PK\x03\x04\x14\x00\x06\x00")
    argv = ["manage.py", "import_contacts", str(path), "--sub-account", str(sub_account.pk)]

    with pytest.raises(SystemExit) as exited:
        ImportContactsCommand().run_from_argv(argv)

    error = capsys.readouterr().err
    assert exited.value.code == 1
    assert error.count("\n") == 1
    assert "was not imported: the file is an Excel workbook" in error


@pytest.mark.django_db
def test_command_missing_file(sub_account, tmp_path):
    with pytest.raises(CommandError, match="file not found"):
        call_command(
            "import_contacts", str(tmp_path / "missing.csv"), sub_account=str(sub_account.pk)
        )
