"""Find what makes a WhatsApp template read as MARKETING, and propose a UTILITY rewrite.

Meta files a template as UTILITY only when it is about a transaction or an account the
person already has. Offers, discounts, urgency, renewal pushes, abandoned carts, chatty
greetings and bodies that are mostly variables make it MARKETING. Rule-based: each rule is
a pattern, a reason and what the rewrite does with the sentence it matches.
"""

import re
from dataclasses import dataclass

from campaigns.models.templates import VARIABLE


@dataclass(frozen=True)
class Rule:
    kind: str
    pattern: re.Pattern[str]
    reason: str
    # True: the whole sentence is promotion and the rewrite drops it. False: only the
    # phrase goes.
    drops_sentence: bool = True


def _words(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b", re.IGNORECASE)


RULES = [
    Rule(
        "offer",
        _words(
            r"offers?",
            r"deals?",
            r"sale",
            r"free",
            r"gift",
            r"promo(?:tion)?s?",
            r"promo code",
            r"coupon",
            r"voucher",
            r"exclusive",
            r"new arrivals?",
            r"shop now",
            r"buy now",
            r"check out our",
        ),
        "promotes an offer or products, which is marketing whatever the category says",
    ),
    Rule(
        "discount",
        re.compile(
            r"\d+\s?%\s*off\b|\b(?:discount(?:ed)?|save \d+|half price|cashback|\d+\s?% off)\b",
            re.IGNORECASE,
        ),
        "mentions a discount or price cut",
    ),
    Rule(
        "urgency",
        _words(
            r"hurry",
            r"last chance",
            r"limited time",
            r"ends? (?:soon|today|tonight|sunday|midnight)",
            r"until \w+day",
            r"only \d+ left",
            r"don'?t miss(?: out)?",
            r"act now",
            r"today only",
            r"while stocks? lasts?",
        ),
        "creates urgency to buy, a marketing pattern",
    ),
    Rule(
        "renewal",
        _words(
            r"renew(?: now| today)?",
            r"upgrade",
            r"come back",
            r"we miss you",
            r"reactivate",
            r"subscribe",
        ),
        "pushes a renewal, upgrade or return instead of stating an account fact",
    ),
    Rule(
        "cart",
        _words(
            r"(?:abandoned |your )?cart",
            r"basket",
            r"left (?:something|items?) behind",
            r"complete your (?:purchase|order)",
            r"still interested",
        ),
        "recovers an abandoned cart, which Meta counts as marketing",
    ),
    Rule(
        "greeting",
        re.compile(
            r"^\s*(?:hi|hey|hello|dear|greetings|good (?:morning|afternoon|evening))\b"
            r"(?:\s+there)?[\s,!]*",
            re.IGNORECASE,
        ),
        "opens with a chatty greeting; utility messages start with the fact",
        drops_sentence=False,
    ),
]
# A body in which variables make up more than this share of the words gives Meta no fixed
# text to judge, and such templates are filed as marketing or rejected.
MAX_VARIABLE_SHARE = 0.5
SENTENCE = re.compile(r"[^.!?\n]+[.!?]*\s*")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    phrase: str
    reason: str


@dataclass(frozen=True)
class Analysis:
    body: str
    findings: list[Finding]
    variable_share: float
    rewrite: str

    @property
    def mostly_variables(self) -> bool:
        return self.variable_share > MAX_VARIABLE_SHARE

    @property
    def reads_as_marketing(self) -> bool:
        return bool(self.findings) or self.mostly_variables

    def segments(self) -> list[tuple[str, Finding | None]]:
        """Split the body into plain text and flagged phrases, in order, for highlighting."""
        parts: list[tuple[str, Finding | None]] = []
        position = 0
        for finding in self.findings:
            if finding.start < position:
                continue
            parts.append((self.body[position : finding.start], None))
            parts.append((finding.phrase, finding))
            position = finding.end
        parts.append((self.body[position:], None))
        return [(text, finding) for text, finding in parts if text]


def find_phrases(body: str) -> list[Finding]:
    findings = [
        Finding(rule.kind, match.start(), match.end(), match.group(0), rule.reason)
        for rule in RULES
        for match in rule.pattern.finditer(body)
        if match.group(0).strip()
    ]
    return sorted(findings, key=lambda finding: (finding.start, -finding.end))


def variable_share(body: str) -> float:
    words = VARIABLE.sub(" VAR ", body).split()
    if not words:
        return 0.0
    return sum(word == "VAR" for word in words) / len(words)


def propose_rewrite(body: str) -> str:
    """Drop promotional sentences and greetings; keep the facts and every variable.

    Variables of dropped sentences (usually the name after "Hi") move to the front as the
    addressee, so the rewrite still takes every parameter the campaign maps.
    """
    greeting = next(rule.pattern for rule in RULES if rule.kind == "greeting")
    facts: list[str] = []
    addressee: list[str] = []
    for sentence in SENTENCE.findall(body):
        promotional = any(rule.drops_sentence and rule.pattern.search(sentence) for rule in RULES)
        stripped = greeting.sub("", sentence).strip()
        if promotional or not VARIABLE.sub("", stripped).strip(" ,.!?"):
            addressee += [match.group(0) for match in VARIABLE.finditer(sentence)]
        else:
            facts.append(stripped)

    if not facts:
        # Nothing factual is left: offer the shape of an account update to fill in.
        names = " ".join(addressee)
        opening = f"Your account update: {names}." if names else "Your account update."
        return f"{opening} Reply to this message if you have questions."
    text = " ".join(facts)
    if addressee:
        return f"{' '.join(addressee)}, {text[0].lower()}{text[1:]}"
    return text[0].upper() + text[1:]


def analyze(body: str) -> Analysis:
    return Analysis(
        body=body,
        findings=find_phrases(body),
        variable_share=variable_share(body),
        rewrite=propose_rewrite(body),
    )
