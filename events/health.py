"""Whether each device's logs are still arriving, from the health tables.

Read by the admin's health pages and by ``manage.py ingeststatus``; the
rows come from the listener's health recorder (``events.ingest.health``).
A few aggregate queries serve any number of devices: per device, the last
hour, the last 24 hours, and the hourly totals of the day before.
"""

import logging
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.db.models import Max, Sum
from django.db.models.functions import TruncHour
from django.utils.translation import gettext_lazy as _

from events.models import Device, IngestMinute, ListenerMinute

logger = logging.getLogger(__name__)

COUNT_FIELDS = (
    "received_count",
    "parsed_count",
    "unparsed_count",
    "stored_count",
    "dropped_count",
)
# A rate drop is "sharp" when the last hour brought less than this share of
# a normal hour (see ``classify``).
DROP_RATIO = 0.2
# Below this many messages in a normal hour, an empty hour is ordinary
# chance, not a drop.
MIN_BASELINE_PER_HOUR = 20
BASELINE_HOURS = 24
CHART_BIN_MINUTES = 15


class State:
    """The health states a device can be in, most urgent first."""

    DISABLED = "disabled"
    NEVER = "never"
    SILENT = "silent"
    RATE_DROP = "rate_drop"
    OK = "ok"

    LABELS = {
        DISABLED: _("disabled"),
        NEVER: _("never heard from"),
        SILENT: _("silent"),
        RATE_DROP: _("rate dropped"),
        OK: _("receiving"),
    }
    PROBLEMS = frozenset({SILENT, RATE_DROP})


@dataclass
class DeviceHealth:
    """One device's figures; counts are messages, shares are 0..1.

    ``baseline_per_hour`` is the median of the hourly received counts over
    the 24 whole hours before the last hour; ``silent_for`` how long ago
    the device was last heard from (None if never).
    """

    device: Device
    now: datetime
    hour_received: int = 0
    day: dict[str, int] = field(default_factory=dict)
    hourly: list[int] = field(default_factory=list)
    state: str = State.OK

    @property
    def day_received(self) -> int:
        return self.day.get("received_count", 0)

    @property
    def day_parsed(self) -> int:
        return self.day.get("parsed_count", 0)

    @property
    def day_unparsed(self) -> int:
        return self.day.get("unparsed_count", 0)

    @property
    def day_stored(self) -> int:
        return self.day.get("stored_count", 0)

    @property
    def day_dropped(self) -> int:
        return self.day.get("dropped_count", 0)

    @property
    def unparsed_share(self) -> float | None:
        """Unparsed among parsed and unparsed in 24 h; None without any."""
        unparsed = self.day.get("unparsed_count", 0)
        total = unparsed + self.day.get("parsed_count", 0)
        return unparsed / total if total else None

    @property
    def unparsed_percent(self) -> float | None:
        share = self.unparsed_share
        return None if share is None else share * 100

    @property
    def baseline_per_hour(self) -> float:
        return statistics.median(self.hourly) if self.hourly else 0.0

    @property
    def silent_for(self) -> timedelta | None:
        seen = self.device.last_seen_at
        return None if seen is None else self.now - seen

    @property
    def state_label(self) -> str:
        return State.LABELS[self.state]

    @property
    def is_problem(self) -> bool:
        return self.state in State.PROBLEMS


def classify(health: DeviceHealth) -> str:
    """Return the device's state from its figures.

    * disabled: the operator turned the device off; nothing is expected.
    * never: no message was ever stored for it.
    * silent: the device has been heard from before (so it normally
      sends) and nothing has arrived for longer than its
      ``silent_after_minutes`` (0 turns this off, for devices that send in
      rare bursts).
    * rate dropped: the last hour brought less than ``DROP_RATIO`` (20 %)
      of the median hourly count of the 24 whole hours before it, and that
      median is at least ``MIN_BASELINE_PER_HOUR`` (20), so a device that
      sends a few lines an hour is not flagged by chance. The listener
      itself being down shows the same way, which is the point: the page
      answers "is this dip real, or did collection break?".
    * ok otherwise.
    """
    device = health.device
    if not device.is_enabled:
        return State.DISABLED
    if device.last_seen_at is None:
        return State.NEVER
    threshold = device.silent_after_minutes
    if threshold and health.silent_for > timedelta(minutes=threshold):
        return State.SILENT
    baseline = health.baseline_per_hour
    if baseline >= MIN_BASELINE_PER_HOUR and health.hour_received < (
        DROP_RATIO * baseline
    ):
        return State.RATE_DROP
    return State.OK


def device_health(
    devices: Iterable[Device], now: datetime | None = None
) -> list[DeviceHealth]:
    """Return the health of ``devices`` at ``now`` (aware; default: now).

    Issues three aggregate queries whatever the number of devices.
    """
    now = now or datetime.now(UTC)
    found = [DeviceHealth(device, now) for device in devices]
    by_id = {health.device.pk: health for health in found}

    recent = IngestMinute.objects.filter(device__in=by_id.keys())
    last_hour = recent.filter(minute__gte=now - timedelta(hours=1))
    for row in last_hour.values("device_id").annotate(total=Sum("received_count")):
        by_id[row["device_id"]].hour_received = row["total"] or 0

    sums = {name: Sum(name) for name in COUNT_FIELDS}
    last_day = recent.filter(minute__gte=now - timedelta(hours=24))
    for row in last_day.values("device_id").annotate(**sums):
        by_id[row["device_id"]].day = {name: row[name] or 0 for name in COUNT_FIELDS}

    for device_id, hourly in baseline_hours(by_id.keys(), now).items():
        by_id[device_id].hourly = hourly
    for health in found:
        health.hourly = health.hourly or [0] * BASELINE_HOURS
        health.state = classify(health)
    return found


def baseline_hours(device_ids, now: datetime) -> dict[int, list[int]]:
    """Return, per device, received counts of the 24 whole UTC hours
    before the hour that holds ``now`` − 1 h (hours without rows are 0).
    """
    end = (now - timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(hours=BASELINE_HOURS)
    rows = (
        IngestMinute.objects.filter(
            device__in=device_ids, minute__gte=start, minute__lt=end
        )
        .annotate(hour=TruncHour("minute", tzinfo=UTC))
        .values("device_id", "hour")
        .annotate(total=Sum("received_count"))
    )
    found: dict[int, list[int]] = {}
    for row in rows:
        hourly = found.setdefault(row["device_id"], [0] * BASELINE_HOURS)
        index = int((row["hour"] - start).total_seconds() // 3600)
        if 0 <= index < BASELINE_HOURS:
            hourly[index] += row["total"] or 0
    return found


def refused_senders(now: datetime) -> dict[str, int]:
    """Return 24 h totals of messages from senders with no device."""
    rows = IngestMinute.objects.filter(
        device__isnull=True, minute__gte=now - timedelta(hours=24)
    ).aggregate(**{name: Sum(name) for name in COUNT_FIELDS})
    return {name: rows[name] or 0 for name in COUNT_FIELDS}


@dataclass
class ListenerHealth:
    """Per UDP endpoint: kernel drops in 24 h, the latest buffer size."""

    endpoint: str
    kernel_drops: int
    receive_buffer_bytes: int | None
    last_minute: datetime


def listener_health(now: datetime) -> list[ListenerHealth]:
    """Return each UDP endpoint that reported in the last 24 hours."""
    rows = (
        ListenerMinute.objects.filter(minute__gte=now - timedelta(hours=24))
        .values("endpoint")
        .annotate(drops=Sum("kernel_drop_count"), last=Max("minute"))
        .order_by("endpoint")
    )
    found = []
    for row in rows:
        latest = ListenerMinute.objects.filter(
            endpoint=row["endpoint"], minute=row["last"]
        ).first()
        found.append(
            ListenerHealth(
                row["endpoint"],
                row["drops"] or 0,
                latest.receive_buffer_bytes if latest else None,
                row["last"],
            )
        )
    return found


def last_report(now: datetime) -> datetime | None:
    """Return the newest minute any listener wrote a health row for."""
    newest = [
        IngestMinute.objects.aggregate(last=Max("minute"))["last"],
        ListenerMinute.objects.aggregate(last=Max("minute"))["last"],
    ]
    newest = [moment for moment in newest if moment is not None]
    return max(newest) if newest else None


@dataclass
class Bin:
    """One bar of the rate chart: a CHART_BIN_MINUTES slice of the day."""

    start: datetime
    received: int = 0
    unparsed: int = 0
    dropped: int = 0


def rate_bins(device: Device, now: datetime) -> list[Bin]:
    """Return the device's counts of the last 24 h in 15-minute bins.

    Reads at most 1 440 minute rows of one device.
    """
    width = timedelta(minutes=CHART_BIN_MINUTES)
    count = 24 * 60 // CHART_BIN_MINUTES
    last = now.replace(
        minute=now.minute - now.minute % CHART_BIN_MINUTES, second=0, microsecond=0
    )
    start = last - width * (count - 1)
    bins = [Bin(start + width * index) for index in range(count)]
    rows = IngestMinute.objects.filter(device=device, minute__gte=start).values_list(
        "minute", "received_count", "unparsed_count", "dropped_count"
    )
    for minute, received, unparsed, dropped in rows:
        index = int((minute - start) / width)
        if 0 <= index < count:
            bins[index].received += received
            bins[index].unparsed += unparsed
            bins[index].dropped += dropped
    return bins


@dataclass
class Chart:
    """Geometry of the rate chart, in SVG user units (numbers only)."""

    width: int
    height: int
    plot_height: int
    peak: int
    bars: list[dict]
    ticks: list[dict]


def rate_chart(bins: list[Bin], tz) -> Chart:
    """Lay out ``bins`` as stacked bars: parsed, unparsed, and dropped.

    Heights scale to the busiest bin; a tick marks every sixth hour in
    ``tz`` (the display zone). Everything returned is a number or a short
    label, so the template renders it without trusting any markup.
    """
    bar_width, gap, plot_height, label_height = 6, 1, 100, 16
    peak = max((b.received for b in bins), default=0) or 1
    bars = []
    ticks = []
    for index, item in enumerate(bins):
        x = index * (bar_width + gap)
        received = round(item.received * plot_height / peak)
        unparsed = min(round(item.unparsed * plot_height / peak), received)
        bars.append(
            {
                "x": x,
                "y": plot_height - received,
                "height": received,
                "unparsed_y": plot_height - unparsed,
                "unparsed_height": unparsed,
                "dropped": item.dropped,
                "start": item.start,
                "received": item.received,
                "unparsed": item.unparsed,
            }
        )
        local = item.start.astimezone(tz)
        if local.minute == 0 and local.hour % 6 == 0:
            ticks.append({"x": x, "label": f"{local:%H:%M}"})
    width = len(bins) * (bar_width + gap)
    return Chart(width, plot_height + label_height, plot_height, peak, bars, ticks)
