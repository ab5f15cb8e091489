"""The per-message step of ingestion, and the counters that account for it.

``handle_message`` is the whole of what happens to one message between the
socket and the queue; the listener, ``ingestfile`` and the tests all call
it, so a message is treated the same however it arrives.
"""

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from events.ingest.devices import DeviceProfile
from events.parsers import parse_message
from events.parsers.types import ParsedEvent, ParseFailure

logger = logging.getLogger(__name__)

COUNTER_NAMES = ("received", "parsed", "unparsed", "stored", "dropped")
RECEIVED, PARSED, UNPARSED, STORED, DROPPED = range(len(COUNTER_NAMES))
# The transport of messages replayed from a saved file by ingestfile.
FILE_TRANSPORT = "file"


@dataclass(slots=True)
class Received:
    """One message, parsed, waiting for the batch writer.

    ``peer`` is the sender's address (None for a file import). ``transport``
    is "udp", "tcp" or FILE_TRANSPORT. ``raw`` is kept until the row is
    committed so that a message whose row the database refuses can still be
    kept as an UnparsedMessage.
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


def device_key(item: Received) -> int | str | None:
    """Return the key a message is counted under in the minute counts.

    The device's id when it has one; the sender's address for a sender
    whose Device the writer has yet to create (resolved at flush time);
    None when neither is known.
    """
    if item.profile.device_id is not None:
        return item.profile.device_id
    return item.peer


class IngestQueue(queue.Queue):
    """The queue between the receivers and the writer, bounded twice.

    Full at ``maxsize`` messages, and also once the raw bytes it holds
    reach ``max_bytes``: large messages (64 KiB of garbage each, say)
    would otherwise let ``maxsize`` of them take gigabytes while the
    database is away. One message is always let in, whatever its size.
    ``qsize`` counts messages. Uses the hooks queue.Queue offers to
    subclasses: ``_qsize`` decides "full" for ``put`` and "empty" for
    ``get``.

    Senders that can be slowed (TCP) put with ``put_yielding``, which
    stops at ``slowed_share`` of either bound: the rest is kept for
    datagrams, which cannot wait, so that a TCP sender faster than the
    database slows itself down instead of making UDP drop. A fifth of the
    default 50 000 messages is five writer batches, enough to keep the
    writer busy; the rest holds seconds of datagrams through a slow commit.
    """

    def __init__(self, maxsize: int, max_bytes: int, slowed_share: float = 0.2) -> None:
        self.max_bytes = max_bytes
        self.yield_size = max(1, int(maxsize * slowed_share))
        self.yield_bytes = int(max_bytes * slowed_share)
        super().__init__(maxsize)

    def _init(self, maxsize: int) -> None:
        super()._init(maxsize)
        self.bytes = 0

    def _qsize(self) -> int:
        held = len(self.queue)
        if held and self.bytes >= self.max_bytes:
            return max(held, self.maxsize)
        return held

    def _put(self, item: Received) -> None:
        self.queue.append(item)
        self.bytes += len(item.raw)

    def _get(self) -> Received:
        item = self.queue.popleft()
        self.bytes -= len(item.raw)
        return item

    def qsize(self) -> int:
        with self.mutex:
            return len(self.queue)

    def put_yielding(self, item: Received, timeout: float) -> None:
        """Put ``item`` once the queue is below the share of slowed senders.

        Raise queue.Full if it is not within ``timeout`` seconds.
        """
        with self.not_full:
            deadline = time.monotonic() + timeout
            while self._above_share():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise queue.Full
                self.not_full.wait(remaining)
            self._put(item)
            self.unfinished_tasks += 1
            self.not_empty.notify()

    def _above_share(self) -> bool:
        held = len(self.queue)
        return held >= self.yield_size or (held and self.bytes >= self.yield_bytes)


class IngestCounters:
    """Monotonic counters per transport, safe to bump from many threads.

    Names: received (messages read), parsed and unparsed (by the parser),
    stored (rows committed, events and unparsed together) and dropped
    (messages lost on purpose: queue full, refused sender, ...), with the
    reason of every drop in ``drop_reasons``.

    Beside the monotonic totals, the same counts accumulate per device in
    ``minute_counts`` (key from ``device_key``, value a list in
    COUNTER_NAMES order) until ``take_minute_counts`` empties them; the
    listener's health recorder does that once a minute. Both are bumped
    under one lock acquisition, so the per-device figures cost the hot
    path a dict lookup and an addition.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.values: dict[tuple[str, str], int] = defaultdict(int)
        self.drop_reasons: dict[str, int] = defaultdict(int)
        self.minute_counts: dict[int | str | None, list[int]] = {}

    def add(self, transport: str, name: str, amount: int = 1) -> None:
        with self.lock:
            self.values[transport, name] += amount

    def drop(
        self,
        transport: str,
        reason: str,
        amount: int = 1,
        key: int | str | None = None,
    ) -> None:
        """Count ``amount`` dropped messages of the device ``key``."""
        with self.lock:
            self.values[transport, "dropped"] += amount
            self.drop_reasons[reason] += amount
            self._minute(key)[DROPPED] += amount

    def refuse(
        self, transport: str, reason: str, key: int | str | None, amount: int = 1
    ) -> None:
        """Count ``amount`` messages received and dropped without parsing."""
        with self.lock:
            self.values[transport, "received"] += amount
            self.values[transport, "dropped"] += amount
            self.drop_reasons[reason] += amount
            counts = self._minute(key)
            counts[RECEIVED] += amount
            counts[DROPPED] += amount

    def count_received(self, transport: str, items: list[Received]) -> None:
        """Count messages of one sender received together, and their results.

        ``items`` share a sender and its profile, hence one minute key.
        """
        if not items:
            return
        parsed = sum(1 for item in items if isinstance(item.result, ParsedEvent))
        unparsed = len(items) - parsed
        with self.lock:
            values = self.values
            values[transport, "received"] += len(items)
            values[transport, "parsed"] += parsed
            values[transport, "unparsed"] += unparsed
            counts = self._minute(device_key(items[0]))
            counts[RECEIVED] += len(items)
            counts[PARSED] += parsed
            counts[UNPARSED] += unparsed

    def count_result(self, item: Received) -> None:
        index = PARSED if isinstance(item.result, ParsedEvent) else UNPARSED
        with self.lock:
            self.values[item.transport, COUNTER_NAMES[index]] += 1
            self._minute(device_key(item))[index] += 1

    def count_stored(self, batch: Iterable[Received], extra_unparsed=()) -> None:
        """Count committed rows per device (the writer counts transports).

        ``extra_unparsed`` are the writer's ready-made unparsed rows, whose
        second value is the sender's address.
        """
        keys: dict[int | str | None, int] = {}
        for item in batch:
            key = device_key(item)
            keys[key] = keys.get(key, 0) + 1
        for row in extra_unparsed:
            keys[row[1]] = keys.get(row[1], 0) + 1
        with self.lock:
            for key, count in keys.items():
                self._minute(key)[STORED] += count

    def take_minute_counts(self) -> dict[int | str | None, list[int]]:
        """Return the per-device counts gathered so far and start afresh."""
        with self.lock:
            taken, self.minute_counts = self.minute_counts, {}
        return taken

    def _minute(self, key: int | str | None) -> list[int]:
        # Called with the lock held.
        counts = self.minute_counts.get(key)
        if counts is None:
            counts = self.minute_counts[key] = [0] * len(COUNTER_NAMES)
        return counts

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
