"""The per-message step of ingestion, and the counters that account for it.

``handle_message`` is the whole of what happens to one message between the
socket and the queue; the listener, ``ingestfile`` and the tests all call
it, so a message is treated the same however it arrives.
"""

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from events.ingest.devices import DeviceProfile
from events.parsers import parse_message
from events.parsers.types import ParsedEvent, ParseFailure

logger = logging.getLogger(__name__)

COUNTER_NAMES = ("received", "parsed", "unparsed", "stored", "dropped")


@dataclass(slots=True)
class Received:
    """One message, parsed, waiting for the batch writer.

    ``peer`` is the sender's address (None for a file import). ``raw`` is
    kept until the row is committed so that a message whose row the
    database refuses can still be kept as an UnparsedMessage.
    """

    raw: bytes
    peer: str | None
    transport: str
    received_at: datetime
    profile: DeviceProfile
    result: ParsedEvent | ParseFailure


def handle_message(
    raw: bytes,
    *,
    peer: str | None,
    transport: str,
    received_at: datetime,
    profile: DeviceProfile,
) -> Received:
    """Parse one message for ``profile``'s device; never raises.

    ``parse_message`` itself turns any parser bug into a ParseFailure that
    names the exception, so the message is kept and the listener goes on.
    """
    result = parse_message(
        raw, received_at=received_at, tz=profile.tz, log_format=profile.log_format
    )
    return Received(raw, peer, transport, received_at, profile, result)


class IngestCounters:
    """Monotonic counters per transport, safe to bump from many threads.

    Names: received (messages read), parsed and unparsed (by the parser),
    stored (rows committed, events and unparsed together) and dropped
    (messages lost on purpose: queue full, refused sender, ...), with the
    reason of every drop in ``drop_reasons``.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[tuple[str, str], int] = defaultdict(int)
        self.drop_reasons: dict[str, int] = defaultdict(int)

    def add(self, transport: str, name: str, amount: int = 1) -> None:
        with self.lock:
            self.values[transport, name] += amount

    def drop(self, transport: str, reason: str, amount: int = 1) -> None:
        with self.lock:
            self.values[transport, "dropped"] += amount
            self.drop_reasons[reason] += amount

    def count_result(self, item: Received) -> None:
        name = "parsed" if isinstance(item.result, ParsedEvent) else "unparsed"
        with self.lock:
            self.values[item.transport, name] += 1

    def count_results(self, transport: str, items: list[Received]) -> None:
        """Count a group of results from one transport under one lock."""
        parsed = sum(1 for item in items if isinstance(item.result, ParsedEvent))
        with self.lock:
            self.values[transport, "parsed"] += parsed
            self.values[transport, "unparsed"] += len(items) - parsed

    def get(self, transport: str, name: str) -> int:
        return self.values.get((transport, name), 0)

    def summary(self) -> str:
        """Return one line: totals, then per transport, then drop reasons."""
        with self.lock:
            transports = sorted({transport for transport, _ in self.values})
            parts = [
                " ".join(f"{n}={self.values.get((t, n), 0)}" for n in COUNTER_NAMES)
                for t in transports
            ]
            line = " | ".join(
                f"{t} {part}" for t, part in zip(transports, parts, strict=True)
            )
            reasons = ",".join(f"{r}:{n}" for r, n in sorted(self.drop_reasons.items()))
        return f"{line or 'no messages'}" + (f" | drops {reasons}" if reasons else "")
