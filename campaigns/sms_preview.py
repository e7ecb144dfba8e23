"""The billing of a fallback SMS text, in words a marketer can act on.

The counting itself is `messaging.segments.count`; this module adds which characters
force UCS-2 and which of them have a GSM-7 look-alike that costs half as much.
"""

import json
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from messaging import segments

# Characters word processors and phones type in place of plain ones; each forces UCS-2
# alone, and the replacement reads the same in an SMS.
LOOKALIKES = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark, also the typographic apostrophe
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",  # en dash
    "\u2014": "-",  # em dash
    "\u2212": "-",  # minus sign
    "\u2026": "...",
    "\u00a0": " ",  # no-break space
    "\u2009": " ",
    "\u202f": " ",
    "\u200b": "",  # zero-width space
    "\u00b4": "'",
    "`": "'",
    "\u2022": "-",  # bullet
}
# Twilio accepts at most 1,600 characters, and recommends staying within 3 segments.
MAX_CHARACTERS = 1600
WARN_SEGMENTS = 3


@dataclass(frozen=True)
class SmsPreview:
    text: str
    characters: int
    encoding: str
    segments: int
    per_segment: int
    non_gsm: tuple[str, ...]
    replaceable: dict[str, str]

    @property
    def is_ucs2(self) -> bool:
        return self.encoding == segments.UCS2

    @property
    def too_long(self) -> bool:
        return self.characters > MAX_CHARACTERS

    @property
    def warn_cost(self) -> bool:
        return self.segments > WARN_SEGMENTS

    @property
    def replaceable_json(self) -> str:
        return json.dumps(self.replaceable)

    def highlighted(self) -> SafeString:
        """Return the text as HTML with every character that forces UCS-2 in a <mark>."""
        forcing = set(self.non_gsm)
        parts = []
        for ch in self.text:
            if ch in forcing:
                title = f"U+{ord(ch):04X} forces UCS-2"
                parts.append(f'<mark title="{title}">{escape(ch)}</mark>')
            else:
                parts.append(escape(ch))
        return mark_safe("".join(parts))  # noqa: S308  (every part is escaped above)

    def non_gsm_names(self) -> list[str]:
        return [f"{ch} (U+{ord(ch):04X})" for ch in self.non_gsm]


def preview(text: str) -> SmsPreview:
    counted = segments.count(text)
    single, multi = (70, 67) if counted.encoding == segments.UCS2 else (160, 153)
    return SmsPreview(
        text=text,
        characters=len(text),
        encoding=counted.encoding,
        segments=counted.segments,
        per_segment=single if counted.segments <= 1 else multi,
        non_gsm=counted.non_gsm,
        replaceable={ch: LOOKALIKES[ch] for ch in counted.non_gsm if ch in LOOKALIKES},
    )


def replace_lookalikes(text: str) -> str:
    return "".join(LOOKALIKES.get(ch, ch) for ch in text)
