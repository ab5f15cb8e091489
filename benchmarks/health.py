"""Print what device profiles and health counting cost per message.

Run with ``.venv/bin/python benchmarks/health.py``. In process, no
database touched (Django is set up only to build the writer's rows). It
prints microseconds per message, medians of batches of 10 000, for:

* the perimeter direction alone, with 0, 3 and 200 internal networks;
* ``event_row`` (the writer's row builder) with 0 and 3 networks, so the
  share of the perimeter in building a row is visible;
* the per-message counting of the listener: the one-lock
  ``count_received`` that also keeps per-device minute counts, against
  the two separate lock acquisitions that counted per transport only.
"""

import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fwsiem.settings")

import django  # noqa: E402

django.setup()

from events.fields import pack_ip  # noqa: E402
from events.ingest.devices import DeviceProfile, internal_ranges  # noqa: E402
from events.ingest.pipeline import IngestCounters, handle_message  # noqa: E402
from events.ingest.writer import event_row  # noqa: E402
from events.parsers.types import ParsedEvent  # noqa: E402

BATCH = 10_000
ROUNDS = 7
LINE = (
    b"<134>Jul  3 19:10:30 filterlog[72237]: 146,,,1535324496,igb1.12,match,"
    b"block,in,4,0x0,,63,12617,0,DF,6,tcp,60,198.51.100.50,10.170.12.5,49724,"
    b"853,0,S,1891286705,,64240,,mss;sackOK;TS;nop;wscale"
)
THREE = "10.0.0.0/8\n192.168.0.0/16\n2001:db8::/32"
MANY = "\n".join(f"10.{n}.0.0/16" for n in range(0, 200))


def per_item(function, *args) -> float:
    """Return the median microseconds of one call over ROUNDS batches."""
    figures = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        for _ in range(BATCH):
            function(*args)
        figures.append((time.perf_counter() - started) / BATCH * 1e6)
    return statistics.median(figures)


def profile(networks: str) -> DeviceProfile:
    starts, ends = internal_ranges(networks)
    return DeviceProfile(1, "auto", ZoneInfo("UTC"), True, starts, ends)


def former_counting(counters: IngestCounters, item) -> None:
    """Count as the listener did before per-device counts: two locks."""
    counters.add(item.transport, "received")
    name = "parsed" if isinstance(item.result, ParsedEvent) else "unparsed"
    counters.add(item.transport, name)


def main() -> None:
    src, dst = pack_ip("198.51.100.50"), pack_ip("10.170.12.5")
    for label, networks in (("0", ""), ("3", THREE), ("200", MANY)):
        cost = per_item(profile(networks).perimeter, src, dst)
        print(f"perimeter, {label:>3} networks: {cost:.3f} µs")

    received_at = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)
    for label, networks in (("0", ""), ("3", THREE)):
        item = handle_message(
            LINE,
            peer="192.0.2.1",
            transport="udp",
            received_at=received_at,
            profile=profile(networks),
        )
        cost = per_item(event_row, item.result, item, 1)
        print(f"event_row, {label:>3} networks: {cost:.3f} µs")

    counters = IngestCounters()
    now = per_item(counters.count_received, item)
    before = per_item(former_counting, counters, item)
    print(f"counting, one lock with per-device minute counts: {now:.3f} µs")
    print(f"counting, two locks per transport only (former): {before:.3f} µs")


if __name__ == "__main__":
    main()
