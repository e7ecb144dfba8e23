"""Rate card import from CSV."""

from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from reports.models import SmsRate, WhatsAppRate
from reports.rate_import import RateFileError, import_rates
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db

GOOD = """channel,category,country,price
whatsapp,MARKETING,+44,0.0529
whatsapp,utility,GB,0.0220
sms,,gb,0.0400
"""


def test_import_creates_rates():
    agency: Any = AgencyFactory()
    result = import_rates(agency, GOOD)
    assert result.created == 3
    assert WhatsAppRate.objects.get(category="UTILITY").calling_code == "44"
    assert SmsRate.objects.get(agency=agency).price == Decimal("0.04")


def test_import_updates_price():
    agency: Any = AgencyFactory()
    import_rates(agency, GOOD)
    result = import_rates(agency, "channel,category,country,price\nsms,,GB,0.05\n")
    assert result.updated == 1
    assert SmsRate.objects.get(agency=agency).price == Decimal("0.05")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("fax,,GB,0.1", "channel 'fax'"),
        ("whatsapp,PROMO,44,0.1", "category 'PROMO'"),
        ("whatsapp,MARKETING,999,0.1", "country '999'"),
        ("sms,,XX,0.1", "country 'XX'"),
        ("sms,,GB,cheap", "price 'cheap'"),
        ("sms,,GB,-1", "price '-1'"),
        ("sms,,GB,0.0000001", "more than 5 decimal places"),
    ],
)
def test_bad_row_rejected(row, reason):
    agency: Any = AgencyFactory()
    result = import_rates(agency, f"channel,category,country,price\n{row}\nsms,,US,0.01\n")
    assert reason in result.rejected[0].reason
    assert result.rejected[0].line == 2
    assert result.created == 1


def test_missing_column_stores_nothing():
    agency: Any = AgencyFactory()
    with pytest.raises(RateFileError, match="no price column"):
        import_rates(agency, "channel,category,country\nsms,,GB\n")
    assert not SmsRate.objects.exists()


def test_command_lists_rejected(tmp_path, capsys):
    agency: Any = AgencyFactory()
    path = tmp_path / "rates.csv"
    path.write_text(GOOD + "sms,,ZZ,1\n")
    with pytest.raises(CommandError, match="1 rows were not imported"):
        call_command("import_rates", str(path), agency=agency.name)
    assert "line 5: country 'ZZ'" in capsys.readouterr().out
