"""In-memory country index over the active registry snapshots.

The index holds, per address family, a sorted list of segment boundaries
and a parallel list of country codes: segment ``i`` runs from
``bounds[i]`` to ``bounds[i + 1] - 1`` and belongs to ``codes[i]`` (``""``
for addresses no registry gives a country). Overlapping ranges are
resolved while the segments are built, so a lookup is one ``bisect`` and
one list index, with no per-lookup comparison of range ends.

The module keeps one active index. ``reload_if_changed`` rebuilds a new
one off to the side when a registry's active snapshot changes and swaps it
in with one assignment; readers on other threads see the old or the new
index, never a half-built one.
"""

import heapq
import logging
import socket
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import NamedTuple

logger = logging.getLogger(__name__)

V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
inet_pton = socket.inet_pton
TOP_SIZE = 1 << 16
# A block with more segments than this gets a sub-table over SUB_BITS bits.
LEAF_SEGMENTS = 64
SUB_BITS = 8
SUB_MASK = (1 << SUB_BITS) - 1
# Where the first sub-table's bits start, below the top 16 bits.
V4_SUB_SHIFT = 32 - 16 - SUB_BITS
V6_SUB_SHIFT = 128 - 16 - SUB_BITS
# A rebuild that raced with a pointer flip is retried this many times.
BUILD_ATTEMPTS = 3


class SourceRange(NamedTuple):
    """One range offered to the index, with what decides overlaps.

    ``first``/``last`` are integers in the family's own space. Where ranges
    overlap, the one from the newest file wins, then the smallest range,
    then the registry name (so the result never depends on input order).
    """

    version: int
    first: int
    last: int
    code: str
    file_date: date
    registry: str


class CountryIndex:
    """Immutable lookup structure; build it with ``build`` and share freely.

    Besides the boundaries, each family has a table over the top 16 bits of
    its address space: an entry is the code when that whole block has one
    answer (most of the IPv4 space), else the block's own short boundary and
    code lists to bisect. Most lookups are then one list index.

    ``lookup(address)`` takes text or packed bytes; ``lookup_packed(packed)``
    takes the 16-byte storage form of ``events.fields`` (4 bytes are taken
    as bare IPv4). Both return ``""`` where no registry gives a country, or
    for input that is not an address (zone ids such as ``fe80::1%em0``
    included). They are closures over the tables, which keeps them fast.
    """

    __slots__ = (
        "key",
        "v4_bounds",
        "v4_codes",
        "v6_bounds",
        "v6_codes",
        "range_count",
        "overlap_count",
        "cross_registry_overlap_count",
        "built_at",
        "lookup",
        "lookup_packed",
    )

    def __init__(
        self,
        key: tuple | None = None,
        v4: tuple[list[int], list[str]] = ([0], [""]),
        v6: tuple[list[int], list[str]] = ([0], [""]),
    ) -> None:
        self.key = key
        self.v4_bounds, self.v4_codes = v4
        self.v6_bounds, self.v6_codes = v6
        self.range_count = 0
        self.overlap_count = 0
        self.cross_registry_overlap_count = 0
        self.built_at = time.time()
        self.lookup_packed, self.lookup = _make_lookups(
            _top_table(*v4, bits=32), _top_table(*v6, bits=128)
        )

    @classmethod
    def build(cls, ranges: Iterable[SourceRange], key: tuple | None) -> "CountryIndex":
        """Return an index of ``ranges``; ``key`` names the snapshots used."""
        by_version: dict[int, list[SourceRange]] = {4: [], 6: []}
        for item in ranges:
            by_version[item.version].append(item)

        pairs = cross = 0
        tables = {}
        for version, items in by_version.items():
            items.sort(key=lambda item: (item.first, item.last))
            version_pairs, version_cross = _count_overlaps(items)
            pairs += version_pairs
            cross += version_cross
            tables[version] = _segments(items)

        index = cls(key, tables[4], tables[6])
        index.range_count = len(by_version[4]) + len(by_version[6])
        index.overlap_count = pairs
        index.cross_registry_overlap_count = cross
        return index

    @property
    def segment_count(self) -> int:
        return len(self.v4_bounds) + len(self.v6_bounds)


def _top_table(bounds: list[int], codes: list[str], bits: int) -> list:
    """Return the per-block table over the top 16 bits (see CountryIndex)."""
    return _table(bounds, codes, 0, bits - 16, 16)


def _table(bounds: list[int], codes: list[str], base: int, shift: int, width: int):
    """Return the table of the ``2**width`` blocks of ``2**shift`` addresses.

    Entry: a code where the block has one answer; the block's own boundary
    and code lists when it has at most LEAF_SEGMENTS segments; else a
    sub-table over the next SUB_BITS bits, so a crowded block (a busy IPv6
    /16) costs another list index instead of a long bisect.
    """
    table: list = []
    for block in range(1 << width):
        low = base + (block << shift)
        high = low + (1 << shift) - 1
        start = bisect_right(bounds, low)
        end = bisect_right(bounds, high)
        if start == end:
            table.append(codes[start - 1])
        elif end - start < LEAF_SEGMENTS or shift < SUB_BITS:
            table.append(
                ([low, *bounds[start:end]], [codes[start - 1], *codes[start:end]])
            )
        else:
            table.append(_table(bounds, codes, low, shift - SUB_BITS, SUB_BITS))
    return table


def _make_lookups(v4_top: list, v6_top: list) -> tuple[Callable, Callable]:
    # Defaults bind every name the hot path uses as a local variable, the
    # fastest access CPython has.
    def lookup_packed(
        packed: bytes,
        v4_top=v4_top,
        v6_top=v6_top,
        prefix=V4_MAPPED_PREFIX,
        from_bytes=int.from_bytes,
        bisect=bisect_right,
        text=str,
        table=list,
        descend=descend,
    ) -> str:
        if packed[:12] == prefix:
            number = from_bytes(packed[12:])
            entry = v4_top[number >> 16]
            below = V4_SUB_SHIFT
        elif len(packed) == 16:
            number = from_bytes(packed)
            entry = v6_top[number >> 112]
            below = V6_SUB_SHIFT
        elif len(packed) == 4:
            number = from_bytes(packed)
            entry = v4_top[number >> 16]
            below = V4_SUB_SHIFT
        else:
            return ""
        if entry.__class__ is text:
            return entry
        if entry.__class__ is table:
            return descend(entry, number, below)
        bounds, codes = entry
        return codes[bisect(bounds, number) - 1]

    def lookup(
        address: str | bytes,
        v4_top=v4_top,
        lookup_packed=lookup_packed,
        pton=inet_pton,
        from_bytes=int.from_bytes,
        bisect=bisect_right,
        text=str,
        table=list,
        descend=descend,
    ) -> str:
        if address.__class__ is not text:
            return lookup_packed(address)
        # Choosing the family first avoids a raised and caught error (about
        # a microsecond) on every IPv6 address.
        try:
            if ":" in address:
                return lookup_packed(pton(AF_INET6, address))
            number = from_bytes(pton(AF_INET, address))
        except OSError:
            return ""
        entry = v4_top[number >> 16]
        if entry.__class__ is text:
            return entry
        if entry.__class__ is table:
            return descend(entry, number, V4_SUB_SHIFT)
        bounds, codes = entry
        return codes[bisect(bounds, number) - 1]

    return lookup_packed, lookup


def descend(entry: list, number: int, shift: int) -> str:
    """Follow sub-tables (see _table) down to the answer for ``number``."""
    while entry.__class__ is list:
        entry = entry[(number >> shift) & SUB_MASK]
        shift -= SUB_BITS
    if entry.__class__ is str:
        return entry
    bounds, codes = entry
    return codes[bisect_right(bounds, number) - 1]


def _count_overlaps(items: list[SourceRange]) -> tuple[int, int]:
    """Count overlapping pairs, and those between two registries.

    ``items`` is sorted by first address. Registry files do not overlap
    themselves, so the list of still-open ranges stays tiny.
    """
    pairs = cross = 0
    open_ranges: list[SourceRange] = []
    for item in items:
        if open_ranges:
            open_ranges = [other for other in open_ranges if other.last >= item.first]
            for other in open_ranges:
                pairs += 1
                cross += other.registry != item.registry
        open_ranges.append(item)
    return pairs, cross


def _segments(items: list[SourceRange]) -> tuple[list[int], list[str]]:
    """Return boundaries and codes for ranges sorted by first address.

    A sweep over every range start and every range end + 1: at each point
    the covering range of highest precedence (see SourceRange) is on top of
    a heap; ranges that ended are dropped lazily when they reach the top.
    Neighbouring segments with the same code are merged.
    """
    points = sorted({item.first for item in items} | {item.last + 1 for item in items})
    bounds = [0]
    codes = [""]
    heap: list[tuple] = []
    position = 0

    for point in points:
        while position < len(items) and items[position].first == point:
            item = items[position]
            rank = (-item.file_date.toordinal(), item.last - item.first, item.registry)
            heapq.heappush(heap, (rank, item.last, item.code))
            position += 1
        while heap and heap[0][1] < point:
            heapq.heappop(heap)

        code = heap[0][2] if heap else ""
        if point == 0:
            codes[0] = code
        elif code != codes[-1]:
            bounds.append(point)
            codes.append(code)
    return bounds, codes


class _NotLoaded:
    """Stands in for the index until the first lookup of the process."""

    key = None

    def lookup(self, address: str | bytes) -> str:
        return current_index().lookup(address)

    def lookup_packed(self, packed: bytes) -> str:
        return current_index().lookup_packed(packed)


# The active index of this process and when the database was last asked.
# Replaced only by assignment, so a reader holds a whole index or the other.
_index: CountryIndex | _NotLoaded = _NotLoaded()
_checked_at = float("-inf")
_reload_lock = threading.Lock()


def lookup(address: str | bytes) -> str:
    """Return the country code of ``address`` from the active index.

    ``address`` is text or the 16-byte packed form of
    ``events.fields.pack_ip``. Returns ``""`` for unknown. The first call in
    a process loads the index from the database.
    """
    return _index.lookup(address)


def current_index() -> CountryIndex:
    """Return the active index, loading it on first use.

    Callers that look up many addresses can keep the returned object and
    call its ``lookup_packed`` directly; it never changes after it is built.
    """
    index = _index
    if isinstance(index, _NotLoaded):
        reload_if_changed(max_age_seconds=0)
        index = _index
    if isinstance(index, _NotLoaded):
        return CountryIndex()
    return index


def reload_if_changed(max_age_seconds: float = 60) -> bool:
    """Rebuild and swap in the index if the active snapshots changed.

    Asks the database at most once per ``max_age_seconds`` (one small query
    over the registry table); only when a pointer moved does it read the
    ranges and build a new index, beside the one in use. Returns whether a
    new index was swapped in. Safe to call from several threads: one
    rebuilds, the others carry on with the current index (the first load of
    a process makes them wait instead).
    """
    global _checked_at

    loaded = not isinstance(_index, _NotLoaded)
    now = time.monotonic()
    if loaded and now - _checked_at < max_age_seconds:
        return False
    if not _reload_lock.acquire(blocking=not loaded):
        return False
    try:
        if not isinstance(_index, _NotLoaded) and now - _checked_at < max_age_seconds:
            return False
        _checked_at = now
        return _reload()
    finally:
        _reload_lock.release()


def _reload() -> bool:
    global _index

    from django.db import DatabaseError

    try:
        key = active_key()
        if key == _index.key:
            return False
        index = _build_from_database(key)
    except DatabaseError:
        logger.exception("country index not loaded, lookups answer unknown")
        if isinstance(_index, _NotLoaded):
            _index = CountryIndex()
        return False

    _index = index
    logger.info(
        "country index loaded snapshots=%s ranges=%s segments=%s overlaps=%s "
        "cross_registry_overlaps=%s",
        len(key),
        index.range_count,
        index.segment_count,
        index.overlap_count,
        index.cross_registry_overlap_count,
    )
    return True


def forget() -> None:
    """Drop the active index so the next lookup reloads (tests, commands)."""
    global _index, _checked_at

    with _reload_lock:
        _index = _NotLoaded()
        _checked_at = float("-inf")


def active_key() -> tuple[tuple[str, int], ...]:
    """Return ``(registry, snapshot id)`` pairs of the active snapshots."""
    from geo.models import Registry

    rows = Registry.objects.filter(active_snapshot__isnull=False).values_list(
        "code", "active_snapshot_id"
    )
    return tuple(sorted(rows))


def _build_from_database(key: tuple) -> CountryIndex:
    """Read the ranges of the snapshots in ``key`` and build an index.

    Old snapshots are deleted only after the pointer moved, so a build
    that read a snapshot while it was being retired sees the key change
    afterwards, and builds again.
    """
    for _attempt in range(BUILD_ATTEMPTS):
        index = CountryIndex.build(_database_ranges(key), key)
        current = active_key()
        if current == key:
            return index
        key = current
    return CountryIndex.build(_database_ranges(key), key)


def _database_ranges(key: tuple) -> Iterator[SourceRange]:
    from django.db import connection

    from geo.models import IPRange, Snapshot

    snapshot_ids = [snapshot_id for _registry, snapshot_id in key]
    dates = dict(
        Snapshot.objects.filter(pk__in=snapshot_ids).values_list("pk", "file_date")
    )
    table = connection.ops.quote_name(IPRange._meta.db_table)
    sql = (
        f"SELECT start_ip, end_ip, country_code, registry FROM {table} "
        "WHERE snapshot_id = %s"
    )

    for snapshot_id in snapshot_ids:
        file_date = dates.get(snapshot_id)
        if file_date is None:
            continue
        with connection.cursor() as cursor:
            cursor.execute(sql, [snapshot_id])
            for start, end, code, registry in cursor.fetchall():
                yield _source_range(bytes(start), bytes(end), code, file_date, registry)


def _source_range(
    start: bytes, end: bytes, code: str, file_date: date, registry: str
) -> SourceRange:
    if start[:12] == V4_MAPPED_PREFIX:
        first, last, version = int.from_bytes(start[12:]), int.from_bytes(end[12:]), 4
    else:
        first, last, version = int.from_bytes(start), int.from_bytes(end), 6
    return SourceRange(version, first, last, code, file_date, registry)


def active_ranges(country: str | None = None) -> Iterator[tuple[str, str, str]]:
    """Yield ``(code, first address, last address)`` of the active snapshots.

    Addresses are canonical text. With ``country``, only that code's ranges.
    Ordered by code, then first address. Reads the database, not the index,
    so ranges are as the registries published them (overlaps included).
    """
    from geo.models import IPRange

    ranges = IPRange.objects.filter(snapshot_id__in=[pk for _r, pk in active_key()])
    if country is not None:
        ranges = ranges.filter(country_code=country.upper())
    rows = ranges.order_by("country_code", "start_ip").values_list(
        "country_code", "start_ip", "end_ip"
    )
    yield from rows.iterator(chunk_size=5000)
