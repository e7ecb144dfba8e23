"""In-memory state of a sandbox process: config, message log, templates and counters.

Everything here is shared by the server's worker threads, so each mutable part
has its own lock and the request path never holds two at once.
"""

from __future__ import annotations

import collections
import gc
import itertools
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import default_config, merge_config

# NOTE: beyond this many entries the oldest are dropped, so a long benchmark keeps a
# bounded memory footprint. Counts from GET /_sandbox/messages cover only what is kept.
MESSAGE_LOG_LIMIT = 200_000
# The log is frozen out of the cycle collector's reach after this many new entries.
FREEZE_EVERY = 1_000


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MessageLog:
    """Accepted sends of both channels, oldest first."""

    def __init__(self) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=MESSAGE_LOG_LIMIT
        )
        self._unfrozen = 0
        self._lock = threading.Lock()

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            self._unfrozen += 1
            if self._unfrozen >= FREEZE_EVERY:
                self._unfrozen = 0
                # A full collection over a large log stopped the sandbox for 50-100 ms in
                # benchmark b, and the sends held up meanwhile counted as one burst against
                # the throughput limit. Dropped entries are still freed by reference counts.
                gc.freeze()

    def list(self, channel: str | None = None, to: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            entries = list(self._entries)
        if channel:
            entries = [entry for entry in entries if entry["channel"] == channel]
        if to:
            entries = [entry for entry in entries if entry["to"] == to]
        return entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# Positional {{1}} or named {{first_name}} variables of a template body.
VARIABLE_PATTERN = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")

CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")

# Statuses in which Meta still sends a template. Outside them, a PAUSED template
# is accepted and then fails by webhook, a DISABLED one fails synchronously, and
# any other status (PENDING, REJECTED, DELETED, ...) is reported as missing.
SENDABLE_STATUSES = frozenset({"APPROVED", "FLAGGED", "LOCKED"})


@dataclass
class Template:
    id: str
    name: str
    language: str
    category: str
    status: str
    body: str
    variable_count: int = field(init=False)

    def __post_init__(self) -> None:
        self.variable_count = len(set(VARIABLE_PATTERN.findall(self.body)))

    def to_graph_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "category": self.category,
            "status": self.status,
            "components": [{"type": "BODY", "text": self.body}],
        }


class TemplateStore:
    def __init__(self) -> None:
        self._by_id: dict[str, Template] = {}
        self._by_key: dict[tuple[str, str], Template] = {}
        self._ids = itertools.count(1_000_000_000_000_001)
        self._lock = threading.Lock()

    def add(
        self, name: str, language: str, category: str, body: str, status: str = "APPROVED"
    ) -> Template:
        """Store a new template. Raises KeyError when name and language already exist."""
        with self._lock:
            if (name, language) in self._by_key:
                raise KeyError(f"template {name!r} in language {language!r} already exists")
            template = Template(str(next(self._ids)), name, language, category, status, body)
            self._by_id[template.id] = template
            self._by_key[(name, language)] = template
            return template

    def find(self, name: str, language: str) -> Template | None:
        return self._by_key.get((name, language))

    def get(self, template_id: str) -> Template | None:
        return self._by_id.get(template_id)

    def set_status(self, template: Template, status: str) -> None:
        with self._lock:
            template.status = status

    def list(self) -> list[Template]:
        with self._lock:
            return list(self._by_id.values())


def preload_templates(store: TemplateStore) -> None:
    store.add(
        "spring_sale",
        "en_US",
        "MARKETING",
        "Hi {{1}}, our spring sale is on: 20% off everything until Sunday.",
    )
    store.add("order_update", "en_US", "UTILITY", "Hi {{1}}, your order {{2}} has shipped.")


class SlidingWindowThrottle:
    """Accept at most `limit` events per key in any 1-second window."""

    def __init__(self) -> None:
        self._events: dict[str, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, limit: int | None) -> bool:
        if limit is None:
            return True
        now = time.monotonic()
        with self._lock:
            events = self._events.setdefault(key, collections.deque())
            while events and events[0] <= now - 1.0:
                events.popleft()
            if len(events) >= limit:
                return False
            events.append(now)
            return True

    def clear(self) -> None:
        with self._lock:
            self._events.clear()


class UseCounter:
    """Count uses per key, for "fail the first N sends to this number" rules."""

    def __init__(self) -> None:
        self._counts: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()

    def take(self, key: str, limit: int) -> bool:
        """Count one use and return True while fewer than `limit` uses were counted before."""
        with self._lock:
            if self._counts[key] >= limit:
                return False
            self._counts[key] += 1
            return True

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class EvenShare:
    """Pick `percent` of calls spread evenly by a counter: 25 picks calls 4, 8, 12, ..."""

    def __init__(self) -> None:
        self._calls = itertools.count(1)
        self._picked = itertools.count(1)

    def pick(self, percent: float) -> int | None:
        """Count one call and return the pick's ordinal (1, 2, ...) or None if not picked."""
        # next() on itertools.count is atomic under the GIL, so no lock is needed.
        call = next(self._calls)
        if percent <= 0 or int(call * percent / 100) == int((call - 1) * percent / 100):
            return None
        return next(self._picked)

    def clear(self) -> None:
        self._calls = itertools.count(1)
        self._picked = itertools.count(1)


class SandboxState:
    def __init__(self) -> None:
        self.config: Mapping[str, Any] = default_config()
        self._config_lock = threading.Lock()
        self.messages = MessageLog()
        self.templates = TemplateStore()
        preload_templates(self.templates)
        self.throttle = SlidingWindowThrottle()
        self.sync_errors = UseCounter()
        self.faults = {"whatsapp": EvenShare(), "sms": EvenShare()}
        self.hangs = {"whatsapp": EvenShare(), "sms": EvenShare()}

    def update_config(self, changes: Any) -> Mapping[str, Any]:
        with self._config_lock:
            self.config = merge_config(self.config, changes)
            return self.config

    def reset_config(self) -> Mapping[str, Any]:
        with self._config_lock:
            self.config = default_config()
            return self.config

    def clear_messages(self) -> None:
        """Clear the message log and every counter that decides an outcome."""
        self.messages.clear()
        self.throttle.clear()
        self.sync_errors.clear()
        for share in (*self.faults.values(), *self.hangs.values()):
            share.clear()
