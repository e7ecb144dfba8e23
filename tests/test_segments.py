"""SMS segment counting on the boundary cases carriers bill differently."""

import pytest

from campaigns.sms_preview import preview, replace_lookalikes
from messaging.segments import GSM7, UCS2, count

EMOJI = "\U0001f600"  # outside the BMP: two UCS-2 code units
CURLY = "\u2019"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),
        ("a" * 307, GSM7, 307, 3),
        # Extension characters take two septets.
        ("\u20ac" * 80, GSM7, 160, 1),
        ("\u20ac" * 81, GSM7, 162, 2),
        ("a" * 158 + "{", GSM7, 160, 1),
        ("a" * 159 + "[", GSM7, 161, 2),
        ("^{}\\[~]|", GSM7, 16, 1),
        # An escape pair never straddles two segments: 152 + 2 does not fit in 153.
        ("a" * 152 + "\u20ac" + "a" * 152, GSM7, 306, 3),
        ("\u00a7" * 160, GSM7, 160, 1),
        ("\u00c7" * 160, GSM7, 160, 1),
        ("\u00e7", UCS2, 1, 1),
        ("\u00e7" * 70, UCS2, 70, 1),
        ("\u00e7" * 71, UCS2, 71, 2),
        (CURLY + "a" * 69, UCS2, 70, 1),
        (CURLY + "a" * 70, UCS2, 71, 2),
        ("a" * 68 + EMOJI, UCS2, 70, 1),
        ("a" * 69 + EMOJI, UCS2, 71, 2),
        # A surrogate pair never straddles two segments: 66 + 2 does not fit in 67.
        ("a" * 66 + EMOJI + "a" * 66, UCS2, 134, 3),
        ("a" * 134 + CURLY, UCS2, 135, 3),
        ("b" * 133 + CURLY, UCS2, 134, 2),
        # In UCS-2 the extension characters count once.
        ("\u20ac" + EMOJI, UCS2, 3, 1),
        ("`", UCS2, 1, 1),
    ],
)
def test_count_boundaries(text, encoding, units, segments):
    result = count(text)
    assert result.encoding == encoding
    assert result.units == units
    assert result.segments == segments


def test_count_names_ucs2_characters():
    assert count(f"Caf\u00e9 {CURLY}ok{CURLY} \u00e7a {EMOJI}").non_gsm == (CURLY, "\u00e7", EMOJI)


def test_preview_offers_lookalikes():
    result = preview(f"It{CURLY}s on \u2014 today")
    assert result.replaceable == {CURLY: "'", "\u2014": "-"}


def test_replacing_lookalikes_returns_gsm7():
    text = replace_lookalikes(f"\u201cSale\u201d {CURLY}til Sunday \u2013 20% off\u2026")
    assert count(text).encoding == GSM7


def test_emoji_has_no_lookalike():
    assert preview(f"Party {EMOJI}").replaceable == {}


def test_highlight_marks_only_ucs2_characters():
    html = preview(f"a<b{CURLY}").highlighted()
    assert html == 'a&lt;b<mark title="U+2019 forces UCS-2">\u2019</mark>'
