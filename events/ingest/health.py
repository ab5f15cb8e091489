"""Ingest health: the listener's per-minute counts, written to the database.

The receiving threads and the writer only bump in-memory counters
(``IngestCounters.minute_counts``); a recorder thread wakes at each
interval boundary, takes what accumulated, and adds it to the
IngestMinute row of that minute, together with one ListenerMinute row per
UDP socket (kernel drops during the minute, effective receive buffer,
queue depth). Nothing here runs per message.
"""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F

from events.ingest.devices import DeviceDirectory
from events.ingest.pipeline import COUNTER_NAMES, IngestCounters
from events.models import Device, IngestMinute, ListenerMinute

logger = logging.getLogger(__name__)

COUNT_FIELDS = tuple(f"{name}_count" for name in COUNTER_NAMES)
PRUNE_EVERY_SECONDS = 3600.0
# How long counts of a sender with no Device yet wait for the writer to
# create one before they are attributed to no device.
UNRESOLVED_WAIT = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class SocketSample:
    """One reading of a UDP socket: cumulative kernel drops and buffer."""

    endpoint: str
    kernel_drops: int
    receive_buffer_bytes: int | None


def minute_of(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class HealthRecorder:
    """Turn the counters' minute counts into IngestMinute/ListenerMinute rows.

    ``sample_sockets`` returns the current readings of the listener's UDP
    sockets; ``queue_depth`` the writer queue's length. ``run`` is the
    thread body (stopped by ``stop``); ``flush`` is also called once more
    by the listener at shutdown, after the writer has finished. A flush
    that meets a database outage keeps its rows and adds them at the next
    one, so an outage delays the figures but does not lose them.
    """

    def __init__(
        self,
        counters: IngestCounters,
        directory: DeviceDirectory,
        *,
        sample_sockets: Callable[[], list[SocketSample]],
        queue_depth: Callable[[], int],
        interval: float,
        retention_days: int,
    ) -> None:
        self.counters = counters
        self.directory = directory
        self.sample_sockets = sample_sockets
        self.queue_depth = queue_depth
        self.interval = interval
        self.retention_days = retention_days
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.pending: dict[tuple[int | None, datetime], list[int]] = {}
        self.pending_sockets: dict[tuple[str, datetime], list] = {}
        self.unresolved: dict[tuple[str, datetime], list[int]] = {}
        self.last_drops: dict[str, int] = {}
        self.last_prune = 0.0

    def run(self) -> None:
        try:
            while not self.stop.wait(self._seconds_to_boundary()):
                # Counts of the interval that just ended belong to the minute
                # it ended in, even when the thread wakes a little late.
                moment = datetime.now(UTC) - timedelta(seconds=0.5)
                try:
                    self.flush(minute_of(moment))
                    self._prune()
                except Exception:
                    # A bug in one flush must not stop the later ones.
                    logger.exception("ingest health flush failed")
        finally:
            connection.close()

    def _seconds_to_boundary(self) -> float:
        now = time.time()
        return self.interval - (now % self.interval)

    def record_sockets(self, minute: datetime) -> None:
        """Read the sockets now and add their kernel drops to ``minute``.

        Called by ``flush``, and by the listener just before it closes the
        sockets (their counters vanish with them).
        """
        depth = self.queue_depth()
        for sample in self.sample_sockets():
            drops = sample.kernel_drops - self.last_drops.get(sample.endpoint, 0)
            self.last_drops[sample.endpoint] = sample.kernel_drops
            with self.lock:
                row = self.pending_sockets.setdefault(
                    (sample.endpoint, minute), [0, None, 0]
                )
                row[0] += max(drops, 0)
                row[1] = sample.receive_buffer_bytes
                row[2] = depth

    def flush(self, minute: datetime, *, final: bool = False) -> bool:
        """Add the counts gathered so far to ``minute``'s rows; never raises.

        Returns False when the database refused or was unreachable; the
        rows then wait for the next flush. ``final`` (at shutdown, after
        the sockets were sampled and closed) writes everything held.
        """
        if not final:
            self.record_sockets(minute)
        self._take_counts(minute, final)
        with self.lock:
            pending, self.pending = self.pending, {}
            sockets, self.pending_sockets = self.pending_sockets, {}
        if not pending and not sockets:
            return True

        try:
            connection.close_if_unusable_or_obsolete()
            with transaction.atomic():
                self._write_devices(pending)
                self._write_sockets(sockets)
            return True
        except DatabaseError as error:
            logger.warning(
                "ingest health not written, kept for the next flush rows=%d error=%r",
                len(pending) + len(sockets),
                str(error)[:200],
            )
            connection.close()
            self._keep(pending, sockets)
            return False

    def _take_counts(self, minute: datetime, final: bool) -> None:
        """Move the counters' minute counts into ``pending``, by device id.

        A sender counted by address (heard before its Device existed) is
        attributed to the device the writer has since created for it. Until
        the writer has done so, its counts wait here (the message may still
        be queued); after UNRESOLVED_WAIT they go to the no-device row.
        """
        profiles = self.directory.profiles
        taken = self.counters.take_minute_counts()
        waiting = [((key, minute), counts) for key, counts in taken.items()]
        waiting.extend(self.unresolved.items())
        self.unresolved = {}
        with self.lock:
            for (key, at), counts in waiting:
                if isinstance(key, str):
                    profile = profiles.get(key)
                    if profile is not None and profile.device_id is not None:
                        key = profile.device_id
                    elif not final and minute - at < UNRESOLVED_WAIT:
                        self.unresolved[key, at] = counts
                        continue
                    else:
                        key = None
                row = self.pending.setdefault((key, at), [0] * len(counts))
                for index, count in enumerate(counts):
                    row[index] += count

    def _keep(self, pending: dict, sockets: dict) -> None:
        with self.lock:
            for key, counts in pending.items():
                row = self.pending.setdefault(key, [0] * len(counts))
                for index, count in enumerate(counts):
                    row[index] += count
            for key, (drops, buffer, depth) in sockets.items():
                row = self.pending_sockets.setdefault(key, [0, buffer, depth])
                row[0] += drops

    def _write_devices(self, pending: dict) -> None:
        ids = {device_id for device_id, _ in pending if device_id is not None}
        existing = set(Device.objects.filter(pk__in=ids).values_list("pk", flat=True))
        for (device_id, minute), counts in pending.items():
            if device_id is not None and device_id not in existing:
                # Deleted since: its health rows went with it (CASCADE).
                continue
            increments = {
                field: F(field) + count
                for field, count in zip(COUNT_FIELDS, counts, strict=True)
            }
            values = dict(zip(COUNT_FIELDS, counts, strict=True))
            rows = IngestMinute.objects.filter(device_id=device_id, minute=minute)
            upsert(rows, increments, {"device_id": device_id, "minute": minute}, values)

    def _write_sockets(self, sockets: dict) -> None:
        for (endpoint, minute), (drops, buffer, depth) in sockets.items():
            rows = ListenerMinute.objects.filter(endpoint=endpoint, minute=minute)
            fixed = {"receive_buffer_bytes": buffer, "queue_depth": depth}
            increments = {"kernel_drop_count": F("kernel_drop_count") + drops, **fixed}
            values = {"kernel_drop_count": drops, **fixed}
            upsert(rows, increments, {"endpoint": endpoint, "minute": minute}, values)

    def _prune(self) -> None:
        """Delete health rows older than the retention, once an hour."""
        if time.monotonic() - self.last_prune < PRUNE_EVERY_SECONDS:
            return
        self.last_prune = time.monotonic()
        cutoff = datetime.now(UTC) - timedelta(days=self.retention_days)
        try:
            IngestMinute.objects.filter(minute__lt=cutoff).delete()
            ListenerMinute.objects.filter(minute__lt=cutoff).delete()
        except DatabaseError as error:
            logger.warning("ingest health prune failed error=%r", str(error)[:200])
            connection.close()


def upsert(rows, increments: dict, identity: dict, values: dict) -> None:
    """Update ``rows`` by ``increments``, or create the row if there is none.

    Portable across SQLite and MySQL (no ON CONFLICT dialects) and correct
    for a NULL device, which a unique constraint does not cover. A second
    listener inserting the same row first makes the insert fail inside its
    savepoint, and the update is tried again.
    """
    if rows.update(**increments):
        return
    try:
        with transaction.atomic():
            rows.model.objects.create(**identity, **values)
    except IntegrityError:
        rows.update(**increments)
