"""The batch writer: parsed messages to rows, many per transaction.

In the listener, two threads share the work (``BatchWriter.run``): one
turns a batch into rows and SQL text while the other commits the batch
before it over its own connection. Rows are inserted with the cursor's
``executemany`` (several times faster than ``bulk_create``; see
DESIGN.md), except events on MySQL/MariaDB: there the writer spells the
multi-row INSERT itself (``inline_inserts``), because mysqlclient quotes
every parameter through a Python call per value, which cost more than
parsing the message did. ``ingestfile`` and the tests call ``write``,
which does both steps in the calling thread.

Errors are sorted into two kinds:

* the database is unreachable or busy (connection lost, server restarted,
  lock timeout): the same batch is retried with a growing pause until it
  commits, and meanwhile the bounded queue fills, so TCP senders are slowed
  and UDP drops are counted;
* the database refuses some row (too long for a column, bad value): the
  batch is split in halves until the row is found, the row is kept as an
  UnparsedMessage carrying the database's error, and the rest commits.
"""

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
from django.db import DatabaseError, connection, transaction

from events.fields import pack_ip
from events.ingest.devices import DeviceDirectory
from events.ingest.pipeline import (
    FILE_TRANSPORT,
    IngestCounters,
    Received,
    device_key,
)
from events.models import Device, Event, UnparsedMessage
from events.parsers.types import ParsedEvent
from events.rollup import hours_of_rows, mark_hours
from geo import index as geo_index

logger = logging.getLogger(__name__)

EVENT_COLUMNS = (
    "occurred_at",
    "received_at",
    "device_id",
    "action",
    "direction",
    "interface",
    "ip_version",
    "protocol",
    "src_ip",
    "dst_ip",
    "src_port",
    "dst_port",
    "tcp_flags",
    "length",
    "rule",
    "src_country",
    "dst_country",
    "hostname",
    "is_time_inferred",
    "extra",
    "perimeter",
)
UNPARSED_COLUMNS = ("received_at", "sender", "device_id", "transport", "raw", "reason")

# Text columns whose limits the writer checks itself, so that one odd line
# is kept as unparsed instead of costing a round of batch bisection.
TEXT_LIMITS = {
    name: Event._meta.get_field(name).max_length
    for name in ("interface", "protocol", "tcp_flags", "rule", "hostname")
}
REASON_LIMIT = UnparsedMessage._meta.get_field("reason").max_length
# Unsigned 32-bit columns (PositiveIntegerField: INT UNSIGNED on MySQL).
NUMBER_COLUMNS = ("src_port", "dst_port", "length")
NUMBER_MAX = 2**32 - 1
# Keys a parser may repeat in ``extra`` under a contract column's name.
CONTRACT_KEYS = frozenset(EVENT_COLUMNS)
RETRY_PAUSE_MAX = 10.0
# A batch stops gathering at this many raw message bytes (see _collect).
BATCH_MAX_BYTES = 8 * 1024 * 1024
# One inline INSERT stays well below MariaDB's default max_allowed_packet
# (16 MiB) even if every character took four bytes.
STATEMENT_CHARS_MAX = 4_000_000
DEVICE_RELOAD_SECONDS = 30.0


@dataclass(slots=True)
class Prepared:
    """A batch turned into rows, ready for one transaction.

    ``events`` and ``unparsed`` are INSERT parameters, ``seen`` the ids of
    the devices heard from live (a replayed file says nothing of whether a
    device is sending now), ``rejected`` the transports of parsed events
    kept as unparsed because a value did not fit, ``statements`` the inline
    INSERTs of the events on MySQL/MariaDB (None where the cursor's
    parameters are used), ``hours`` the UTC hours the events fall in (found
    here, while the previous batch commits).
    """

    events: list[tuple]
    unparsed: list[tuple]
    seen: set[int]
    rejected: list[str]
    statements: list[str] | None
    hours: set[datetime] = field(init=False)

    def __post_init__(self) -> None:
        self.hours = hours_of_rows(self.events)


class RowRejected(Exception):
    """A parsed event cannot become a row; the message is kept as unparsed."""


def insert_sql(model, columns: Sequence[str]) -> str:
    """Return a parameterized multi-row-capable INSERT for ``columns``."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES ({marks})"


def insert_head(model, columns: Sequence[str]) -> str:
    """Return ``INSERT INTO table (columns) VALUES `` for inline rows."""
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in columns)
    return f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES "


def sql_literal(value) -> str:
    """Return ``value`` as a MySQL literal, for the types rows are made of.

    Text is quoted with backslash escapes, so this is valid only on a
    connection whose sql_mode lacks NO_BACKSLASH_ESCAPES; fwsiem's
    connections set sql_mode themselves and the writer checks it before
    using this (``BatchWriter._can_inline``). Raises TypeError for any
    other type rather than guessing a form.
    """
    kind = type(value)
    if kind is str:
        if "\\" in value or "'" in value or "\0" in value:
            value = value.replace("\\", "\\\\").replace("'", "\\'").replace("\0", "\\0")
        return f"'{value}'"
    if kind is int:
        return str(value)
    if value is None:
        return "NULL"
    if kind is bytes:
        return f"X'{value.hex()}'"
    if kind is bool:
        return "1" if value else "0"
    raise TypeError(f"no literal form for {kind.__name__}")


def inline_inserts(head: str, rows: Iterable[tuple]) -> Iterable[str]:
    """Yield INSERT statements ``head`` + VALUES for all ``rows``.

    A statement is cut when it reaches STATEMENT_CHARS_MAX characters.
    """
    values: list[str] = []
    size = 0
    for row in rows:
        text = f"({','.join([sql_literal(value) for value in row])})"
        values.append(text)
        size += len(text) + 1
        if size >= STATEMENT_CHARS_MAX:
            yield head + ",".join(values)
            values, size = [], 0
    if values:
        yield head + ",".join(values)


def is_transient(error: DatabaseError) -> bool:
    """Tell an outage or lock (retry later) from a refused row (isolate it).

    An open connection is asked directly (a ping on MySQL); without one,
    a trivial query tells whether the database can be reached. Lock
    timeouts and deadlocks are transient too.
    """
    text = str(error).lower()
    if "locked" in text or "deadlock" in text or "lock wait timeout" in text:
        return True
    if connection.connection is not None:
        if connection.is_usable():
            return False
        connection.close()
        return True

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        connection.close()
        return True
    return False


class BatchWriter:
    """Drain the queue into the database, one transaction per batch.

    ``run`` is the thread body; ``write`` is also called directly by
    ``ingestfile`` and the tests. ``stop`` is set by the listener when the
    sockets are closed; the writer then empties the queue and returns.
    """

    def __init__(
        self,
        items: "queue.Queue[Received]",
        counters: IngestCounters,
        directory: DeviceDirectory,
        *,
        batch_size: int,
        flush_seconds: float,
    ) -> None:
        self.items = items
        self.counters = counters
        self.directory = directory
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.stop = threading.Event()
        self.give_up = threading.Event()
        self.unwritten: list[Received] = []
        self.last_reload = 0.0
        self.event_sql = insert_sql(Event, EVENT_COLUMNS)
        self.unparsed_sql = insert_sql(UnparsedMessage, UNPARSED_COLUMNS)
        self.event_head = insert_head(Event, EVENT_COLUMNS)
        self.inline: bool | None = None

    def run(self) -> None:
        """Thread body: build each batch's rows while the last one commits.

        This thread turns messages into rows and SQL text; a second thread
        ("writer-db") executes them. The database works on one batch while
        Python prepares the next, instead of each waiting for the other.
        At most one prepared batch waits between the two, so an outage
        still backs up into the queue as before.
        """
        handoff: queue.Queue = queue.Queue(maxsize=1)
        built = threading.Event()
        executor = threading.Thread(
            target=self._execute, args=(handoff, built), name="writer-db", daemon=True
        )
        executor.start()
        try:
            while not (self.stop.is_set() and self.items.empty()):
                batch = self._collect()
                if batch:
                    self._hand_off(handoff, batch)
                try:
                    self._reload_devices()
                except Exception:
                    logger.exception("device or country reload failed")
        finally:
            built.set()
            executor.join()
            connection.close()

    def _hand_off(self, handoff: queue.Queue, batch: list[Received]) -> None:
        try:
            prepared = self._prepare(batch)
        except Exception:
            # The executor's own path builds the rows again, item by item.
            logger.exception("cannot prepare a batch; writing it row by row")
            prepared = None
        while True:
            try:
                handoff.put((batch, prepared), timeout=0.2)
                return
            except queue.Full:
                if self.give_up.is_set():
                    self.unwritten.extend(batch)
                    return

    def _execute(self, handoff: queue.Queue, built: threading.Event) -> None:
        """Executor thread body: commit prepared batches until all are done."""
        try:
            while True:
                try:
                    batch, prepared = handoff.get(timeout=0.2)
                except queue.Empty:
                    if built.is_set():
                        return
                    continue
                try:
                    self.write(batch, prepared)
                except Exception:
                    # Never die quietly while the listener goes on reading:
                    # keep the batch for the spool and carry on.
                    logger.exception("writer error; batch kept for the spool")
                    self.unwritten.extend(batch)
                    connection.close()
        finally:
            connection.close()

    def _collect(self) -> list[Received]:
        """Wait for a first item, then gather until full or the time is up.

        Full is ``batch_size`` messages or BATCH_MAX_BYTES of raw bytes, so
        that batches of large messages held through an outage stay small.
        """
        try:
            batch = [self.items.get(timeout=0.2)]
        except queue.Empty:
            return []

        size = len(batch[0].raw)
        deadline = time.monotonic() + self.flush_seconds
        while len(batch) < self.batch_size and size < BATCH_MAX_BYTES:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    item = self.items.get_nowait()
                else:
                    item = self.items.get(timeout=remaining)
            except queue.Empty:
                break
            batch.append(item)
            size += len(item.raw)
        return batch

    def _reload_devices(self) -> None:
        """Refresh the device table and, when it changed, the country index.

        Both are asked at most every DEVICE_RELOAD_SECONDS, so a new device
        or a registry refresh reaches the listener within a minute. A
        changed country index is rebuilt here, holding up writes for about
        a second once a day while the queue absorbs what arrives.
        """
        if time.monotonic() - self.last_reload < DEVICE_RELOAD_SECONDS:
            return
        try:
            self.directory.reload()
            geo_index.reload_if_changed(max_age_seconds=DEVICE_RELOAD_SECONDS)
            self.last_reload = time.monotonic()
        except DatabaseError as error:
            logger.warning(
                "device reload failed; keeping the cached devices error=%r",
                str(error)[:200],
            )
            connection.close()

    def write(self, batch: list[Received], prepared: "Prepared | None" = None) -> None:
        """Commit ``batch``, waiting out outages; never raises for the DB.

        ``prepared`` is the batch's rows built beforehand (``_prepare``);
        it serves the first attempt only. Returns early only when
        ``give_up`` is set during an outage (the listener's shutdown
        deadline); what is left is then in ``unwritten``, and once given
        up a failed batch goes there at once. Halves already committed are
        never written twice. The first success after a failure is logged.
        """
        chunks = [batch]
        pause = 0.5
        failed_at = None
        while chunks:
            chunk = chunks.pop()
            try:
                self._write_chunk(chunk, chunks, prepared)
                prepared = None
                pause = 0.5
                if failed_at is not None:
                    logger.warning(
                        "database available again rows=%d waited=%.1fs",
                        len(batch),
                        time.monotonic() - failed_at,
                    )
                    failed_at = None
                continue
            except DatabaseError as error:
                chunks.append(chunk)
                if failed_at is None:
                    failed_at = time.monotonic()
                if self.give_up.is_set():
                    break
                logger.warning(
                    "database unavailable, retrying rows=%d pause=%.1fs error=%r",
                    sum(len(c) for c in chunks),
                    pause,
                    str(error)[:200],
                )
            if self.give_up.wait(pause):
                break
            pause = min(pause * 2, RETRY_PAUSE_MAX)
        for chunk in chunks:
            self.unwritten.extend(chunk)

    def _write_chunk(
        self, chunk: list[Received], chunks: list, prepared: "Prepared | None"
    ) -> None:
        """Insert ``chunk``, or split it onto ``chunks`` if a row is refused.

        Raises DatabaseError only for transient errors (outage, lock).
        """
        try:
            self._insert(chunk, prepared=prepared)
            return
        except DatabaseError as error:
            if is_transient(error):
                raise
            refused = error
        except (OverflowError, ValueError, TypeError) as error:
            # The driver refused a value before the database saw it (SQLite
            # binds no integer beyond 64 bits): the same as a refused row.
            refused = error

        if len(chunk) > 1:
            middle = len(chunk) // 2
            chunks.append(chunk[middle:])
            chunks.append(chunk[:middle])
            return

        item = chunk[0]
        logger.warning("database refused a row error=%r", str(refused)[:200])
        # Without the device: a vanished device may be why it was refused.
        row = unparsed_row(item, f"database refused: {refused}", None)
        try:
            self._insert([], [row])
            if isinstance(item.result, ParsedEvent):
                self.counters.add(item.transport, "refused")
        except DatabaseError as error:
            if is_transient(error):
                raise
            logger.error("database refused the unparsed row too; message lost")
            self.counters.drop(
                item.transport, "refused_by_database", key=device_key(item)
            )

    def _prepare(self, batch: list[Received]) -> "Prepared":
        """Build a batch's rows, and its SQL once the connection is known."""
        events, unparsed, seen, rejected = self._rows(batch)
        statements = None
        if self.inline and events:
            statements = list(inline_inserts(self.event_head, events))
        return Prepared(events, unparsed, seen, rejected, statements)

    def _insert(
        self,
        batch: Iterable[Received],
        extra_unparsed: list[tuple] = (),
        prepared: "Prepared | None" = None,
    ) -> None:
        if prepared is None:
            prepared = Prepared(*self._rows(batch), None)
        events, seen = prepared.events, prepared.seen
        unparsed = [*prepared.unparsed, *extra_unparsed]
        with transaction.atomic(), connection.cursor() as cursor:
            if events:
                # First, so the hours stay locked until the events commit.
                mark_hours(prepared.hours)
            if prepared.statements is not None:
                for statement in prepared.statements:
                    cursor.execute(statement)
            elif events:
                self._insert_events(cursor, events)
            if unparsed:
                cursor.executemany(self.unparsed_sql, unparsed)
            if seen:
                Device.objects.filter(pk__in=seen).update(
                    last_seen_at=datetime.now(UTC)
                )
        for transport, count in self._per_transport(batch, extra_unparsed):
            self.counters.add(transport, "stored", count)
        for transport in prepared.rejected:
            self.counters.add(transport, "refused")
        self.counters.count_stored(batch, extra_unparsed)

    def _insert_events(self, cursor, rows: list[tuple]) -> None:
        if self.inline is None:
            self.inline = self._can_inline(cursor)
        if not self.inline:
            cursor.executemany(self.event_sql, rows)
            return
        try:
            statements = list(inline_inserts(self.event_head, rows))
        except TypeError:
            logger.exception("a value without a literal form; using executemany")
            cursor.executemany(self.event_sql, rows)
            return
        for statement in statements:
            cursor.execute(statement)

    @staticmethod
    def _can_inline(cursor) -> bool:
        """Tell whether this connection may take ``sql_literal`` text."""
        if connection.vendor != "mysql":
            return False
        cursor.execute("SELECT @@SESSION.sql_mode")
        return "NO_BACKSLASH_ESCAPES" not in cursor.fetchone()[0].upper()

    @staticmethod
    def _per_transport(batch, extra_unparsed) -> list[tuple[str, int]]:
        totals: dict[str, int] = {}
        for item in batch:
            totals[item.transport] = totals.get(item.transport, 0) + 1
        for row in extra_unparsed:
            totals[row[3]] = totals.get(row[3], 0) + 1
        return list(totals.items())

    def _rows(self, batch: Iterable[Received]) -> tuple[list, list, set[int], list]:
        """Turn messages into parameter tuples for the two INSERTs.

        Also returns the transports of parsed events whose values do not
        fit their columns (kept as unparsed), for the "refused" counter.
        """
        country_of = geo_index.current_index().lookup_packed
        events: list[tuple] = []
        unparsed: list[tuple] = []
        seen: set[int] = set()
        rejected: list[str] = []
        for item in batch:
            device_id = self._device_id(item)
            if device_id is not None and item.transport != FILE_TRANSPORT:
                seen.add(device_id)
            result = item.result
            if isinstance(result, ParsedEvent):
                try:
                    events.append(event_row(result, item, device_id, country_of))
                    continue
                except RowRejected as error:
                    reason = str(error)
                except Exception as error:
                    # A bug here must not stop the writer: keep the message.
                    logger.exception("cannot build the row of a parsed event")
                    reason = f"internal error building the row: {error!r:.120}"
                rejected.append(item.transport)
            else:
                reason = result.reason
            unparsed.append(unparsed_row(item, reason, device_id))
        return events, unparsed, seen, rejected

    def _device_id(self, item: Received) -> int | None:
        if item.profile.device_id is not None or item.peer is None:
            return item.profile.device_id
        return self.directory.ensure_device(item.peer).device_id


def unparsed_row(item: Received, reason: str, device_id: int | None) -> tuple:
    """Return the INSERT parameters of one message kept as unparsed."""
    return (
        datetime_param(item.received_at),
        item.peer,
        device_id,
        item.transport,
        item.raw,
        reason[:REASON_LIMIT],
    )


def event_row(
    event: ParsedEvent,
    item: Received,
    device_id: int | None,
    country_of: Callable[[bytes], str] | None = None,
) -> tuple:
    """Return the INSERT parameters of one event, in EVENT_COLUMNS order.

    ``country_of`` maps a packed address to its country code (the active
    geo index's ``lookup_packed``, taken once per batch); without it the
    index is fetched here.

    Raises RowRejected when a value does not fit its column, so the message
    is kept as unparsed with that reason rather than refused by the batch.
    """
    if device_id is None:
        raise RowRejected("no device for this message")
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(event, name)) > limit:
            raise RowRejected(f"{name} longer than {limit} characters")
    for name in NUMBER_COLUMNS:
        value = getattr(event, name)
        if value is not None and not 0 <= value <= NUMBER_MAX:
            raise RowRejected(f"{name} out of range ({str(value)[:40]})")
    try:
        src_ip = pack_ip(event.src_ip)
        dst_ip = pack_ip(event.dst_ip)
    except ValueError as error:
        raise RowRejected(str(error)) from None
    if country_of is None:
        country_of = geo_index.current_index().lookup_packed

    return (
        datetime_param(event.occurred_at),
        datetime_param(item.received_at),
        device_id,
        event.action,
        event.direction,
        event.interface,
        event.ip_version,
        event.protocol,
        src_ip,
        dst_ip,
        event.src_port,
        event.dst_port,
        event.tcp_flags,
        event.length,
        event.rule,
        country_of(src_ip),
        country_of(dst_ip),
        event.hostname,
        event.time_inferred,
        compact_json(event),
        item.profile.perimeter(src_ip, dst_ip),
    )


def datetime_param(value: datetime) -> str:
    """Return the database form of an aware datetime, fast for UTC.

    Both backends store UTC as naive text in the ``str(datetime)`` layout,
    which is what Django's adapter returns; values in other zones go
    through the adapter itself.
    """
    if value.tzinfo is UTC:
        # "2026-07-03 12:00:00.123456+00:00" without its offset.
        return value.isoformat(" ")[:-6]
    return connection.ops.adapt_datetimefield_value(value)


def compact_json(event: ParsedEvent) -> str:
    """Serialize ``event.extra`` without what the row already holds.

    Every byte here is stored on millions of rows, so a None or "" value is
    left out, and so is a value equal to the contract column of the same
    name. A raw value the normalization changed stays: an ``action`` of
    ``rdr`` or ``unkn(%u)`` is kept although the column is empty.
    """
    # Most values are truthy, which settles them with one test.
    kept = {
        key: value
        for key, value in event.extra.items()
        if value or (value is not None and value != "")
    }
    for key in CONTRACT_KEYS.intersection(kept):
        if getattr(event, key, None) == kept[key]:
            del kept[key]
    try:
        return orjson.dumps(kept).decode()
    except orjson.JSONEncodeError:
        # Integers beyond 64 bits, which only the standard module writes.
        return json.dumps(kept, separators=(",", ":"), ensure_ascii=False)
