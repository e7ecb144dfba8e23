"""SMS length in segments, as carriers bill it.

GSM-7 text takes 160 septets in one segment or 153 per segment when concatenated; the
extension characters (^ { } \\ [ ~ ] | € and form feed) take two septets and are never split
across segments. Any character outside GSM-7 switches the whole message to UCS-2: 70 code
units, or 67 per segment, where characters outside the BMP take two units that stay together.
"""

from dataclasses import dataclass

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

GSM7 = "GSM-7"
UCS2 = "UCS-2"


@dataclass(frozen=True)
class SegmentCount:
    encoding: str
    units: int
    segments: int
    # Characters that force UCS-2, in order of first appearance.
    non_gsm: tuple[str, ...] = ()


def count(text: str) -> SegmentCount:
    if not text:
        return SegmentCount(GSM7, 0, 0)
    non_gsm = tuple(dict.fromkeys(ch for ch in text if not _is_gsm(ch)))
    if not non_gsm:
        sizes = [len(ch.encode("gsm03.38")) for ch in text]
        return SegmentCount(GSM7, sum(sizes), _segments(sizes, 160, 153))
    sizes = [len(ch.encode("utf-16-le")) // 2 for ch in text]
    return SegmentCount(UCS2, sum(sizes), _segments(sizes, 70, 67), non_gsm)


def _is_gsm(ch: str) -> bool:
    try:
        ch.encode("gsm03.38")
    except UnicodeEncodeError:
        return False
    return True


def _segments(sizes: list[int], single: int, per_part: int) -> int:
    if sum(sizes) <= single:
        return 1
    # Fill parts greedily; a two-unit character that does not fit starts the next part.
    parts, used = 1, 0
    for size in sizes:
        if used + size > per_part:
            parts, used = parts + 1, 0
        used += size
    return parts
