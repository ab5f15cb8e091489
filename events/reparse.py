"""Run today's parsers again over kept unparsed messages.

After a parser fix (a firmware update changed a line's shape, say), the
lines that failed before can become events: each batch of unparsed rows
is locked, parsed with its device's format and time zone and its original
receive time, and what now parses is inserted as events and deleted from
the unparsed table in the same transaction, so a message is moved once,
however often or concurrently the re-parse runs.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from events.ingest.devices import DeviceProfile
from events.ingest.pipeline import Received
from events.ingest.writer import (
    EVENT_COLUMNS,
    REASON_LIMIT,
    RowRejected,
    event_row,
    insert_sql,
)
from events.models import Device, Event, UnparsedMessage
from events.parsers import parse_message
from events.parsers.types import ParsedEvent
from events.rollup import hours_of_rows, mark_hours

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class ReparseResult:
    """Counts of one re-parse: moved to events, still failing, skipped.

    ``skipped`` rows have no device (it was deleted), so there is no format
    or time zone to parse them with; ``gone`` rows were moved or deleted by
    someone else between the selection and their batch.
    """

    moved: int = 0
    still_unparsed: int = 0
    skipped: int = 0
    gone: int = 0


def reparse(ids: Iterable[int], batch_size: int = BATCH_SIZE) -> ReparseResult:
    """Re-parse the unparsed messages with primary keys ``ids``.

    One transaction per batch of ``batch_size`` rows. A row that still
    fails keeps its bytes; its reason is replaced by today's parser's.
    """
    ids = sorted(set(ids))
    result = ReparseResult()
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        with transaction.atomic():
            _reparse_batch(chunk, result)
    logger.info(
        "re-parse finished moved=%d still_unparsed=%d skipped=%d gone=%d",
        result.moved,
        result.still_unparsed,
        result.skipped,
        result.gone,
    )
    return result


def _reparse_batch(chunk: list[int], result: ReparseResult) -> None:
    # Locking the rows makes a concurrent re-parse of the same rows wait,
    # then find them gone (SQLite serializes write transactions anyway).
    rows = list(UnparsedMessage.objects.select_for_update().filter(pk__in=chunk))
    result.gone += len(chunk) - len(rows)
    profiles = device_profiles({row.device_id for row in rows})

    events, moved, reasons = [], [], {}
    for row in rows:
        profile = profiles.get(row.device_id)
        if profile is None:
            result.skipped += 1
            continue
        event, reason = reparse_row(row, profile)
        if event is not None:
            events.append(event)
            moved.append(row.pk)
            continue
        result.still_unparsed += 1
        if reason != row.reason:
            reasons[row.pk] = reason

    if events:
        mark_hours(hours_of_rows(events))
        with connection.cursor() as cursor:
            cursor.executemany(insert_sql(Event, EVENT_COLUMNS), events)
        UnparsedMessage.objects.filter(pk__in=moved).delete()
    for pk, reason in reasons.items():
        UnparsedMessage.objects.filter(pk=pk).update(reason=reason)
    result.moved += len(moved)


def reparse_row(
    row: UnparsedMessage, profile: DeviceProfile
) -> tuple[tuple | None, str]:
    """Return (event row parameters, "") or (None, today's failure reason)."""
    raw = bytes(row.raw)
    parsed = parse_message(
        raw, received_at=row.received_at, tz=profile.tz, log_format=profile.log_format
    )
    if not isinstance(parsed, ParsedEvent):
        return None, parsed.reason[:REASON_LIMIT]

    item = Received(raw, row.sender, row.transport, row.received_at, profile, parsed)
    try:
        return event_row(parsed, item, profile.device_id), ""
    except RowRejected as error:
        return None, str(error)[:REASON_LIMIT]


def device_profiles(device_ids: set[int | None]) -> dict[int, DeviceProfile]:
    devices = Device.objects.filter(pk__in=[pk for pk in device_ids if pk])
    return {device.pk: DeviceProfile.for_device(device) for device in devices}
