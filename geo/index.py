"""In-memory country index over the active registry snapshots.

The index holds, per address family, a sorted list of segment boundaries
and a parallel list of country codes: segment ``i`` runs from
``bounds[i]`` to ``bounds[i + 1] - 1`` and belongs to ``codes[i]`` (``""``
for addresses no registry gives a country). Overlapping ranges are
resolved while the segments are built, so a lookup never compares range
ends; tables over the leading bits (see CountryIndex) then answer most
lookups by indexing alone.

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
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import NamedTuple

logger = logging.getLogger(__name__)

V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"
AF_INET = socket.AF_INET
AF_INET6 = socket.AF_INET6
inet_pton = socket.inet_pton
LOW_64 = (1 << 64) - 1
# The top table of each family is indexed by the first TOP_BITS bits.
TOP_BITS = 16
V4_SHIFT = 32 - TOP_BITS
# A block with at most this many boundaries inside, and no exact sub-table
# within SLOT_BUDGET, is a leaf to bisect.
LEAF_SEGMENTS = 8
# Sub-table width: at most MAX_WIDTH bits; an exact width may spend up to
# SLOT_BUDGET slots per boundary, any other about 2**EXTRA_BITS.
MAX_WIDTH = 16
SLOT_BUDGET = 256
EXTRA_BITS = 2
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
    its address space. A slot holds the answer when that whole block has
    one (most of the IPv4 space), else it leads to a sub-table over the
    next bits or to a short boundary list to bisect (see _TableBuilder).
    Slots are small numbers in arrays, not object pointers, so the tables
    stay compact and a lookup touches few cache lines. IPv6 is read from
    its upper 64 bits when every boundary falls on a /64 (always so for
    registry files: none delegates longer than /64), which keeps its
    numbers half the size.

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
        self.lookup_packed, self.lookup = _make_lookups(_tables(v4, v6))

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


class _Tables(NamedTuple):
    """The lookup tables of both families (see CountryIndex).

    ``codes`` lists every answer once; a slot value below ``len(codes)`` is
    the answer ``codes[value]``, a larger one names ``nodes[value -
    len(codes)]``: a sub-table ``(shift, mask, slots)`` or a leaf ``[bounds,
    codes]`` to bisect. ``v6_cut`` is how many leading bytes of an IPv6
    address the IPv6 numbers are made of (8 when every boundary falls on a
    /64, as in every registry file, else 16).
    """

    codes: list[str]
    nodes: list
    v4_top: array
    v6_top: array
    v6_cut: int


def _tables(v4: tuple[list[int], list[str]], v6: tuple[list[int], list[str]]):
    """Return the _Tables of two families' boundary and code lists."""
    codes = sorted({*v4[1], *v6[1]})
    builder = _TableBuilder({code: number for number, code in enumerate(codes)})
    v4_top = builder.top(*v4, bits=32)

    v6_bounds, v6_codes = v6
    v6_cut = 16
    if all(bound & LOW_64 == 0 for bound in v6_bounds):
        v6_bounds, v6_cut = [bound >> 64 for bound in v6_bounds], 8
    v6_top = builder.top(v6_bounds, v6_codes, bits=v6_cut * 8)

    # Two bytes a slot where every value fits, else four.
    if len(codes) + len(builder.nodes) < 1 << 16:
        v4_top, v6_top = array("H", v4_top), array("H", v6_top)
        for position, node in enumerate(builder.nodes):
            if node.__class__ is tuple:
                shift, mask, slots = node
                builder.nodes[position] = (shift, mask, array("H", slots))
    return _Tables(codes, builder.nodes, v4_top, v6_top, v6_cut)


class _TableBuilder:
    """Cuts boundary lists into the slot arrays of _Tables.

    A block of the address space with boundaries strictly inside gets a
    sub-table. Its width is exact where it can be: if every boundary in the
    block falls on a multiple of ``2**k`` addresses and that costs at most
    SLOT_BUDGET slots per boundary, slots of ``2**k`` addresses each have a
    single answer (registry ranges are aligned prefixes, so this is the
    usual case). Otherwise a block with at most LEAF_SEGMENTS boundaries
    becomes a leaf, and a larger one a sub-table of about ``2**EXTRA_BITS``
    slots per boundary whose crowded slots are cut again.
    """

    def __init__(self, code_ids: dict[str, int]) -> None:
        self.code_ids = code_ids
        self.nodes: list = []

    def top(self, bounds: list[int], codes: list[str], bits: int) -> array:
        # bounds[0] is 0, the start of the space; a range that reaches the
        # end of the space leaves a boundary just past it, not to be placed.
        end = bisect_right(bounds, (1 << bits) - 1)
        return self._slots(bounds, codes, 0, bits - TOP_BITS, TOP_BITS, 1, end)

    def _node(self, bounds, codes, low: int, shift: int, start: int, end: int):
        """Return the slot value of the block at ``low`` of ``2**shift``.

        ``bounds[start:end]`` are the boundaries strictly inside the block.
        """
        count = end - start
        if count == 0:
            return self.code_ids[codes[start - 1]]

        offsets = (bound - low for bound in bounds[start:end])
        zeros = min((offset & -offset).bit_length() - 1 for offset in offsets)
        width = shift - zeros
        exact = width <= MAX_WIDTH and 1 << width <= SLOT_BUDGET * count
        if not exact and count <= LEAF_SEGMENTS:
            node = [[low, *bounds[start:end]], [codes[start - 1], *codes[start:end]]]
        else:
            if not exact:
                width = min(MAX_WIDTH, shift, count.bit_length() + EXTRA_BITS)
            sub = shift - width
            slots = self._slots(bounds, codes, low, sub, width, start, end)
            node = (sub, (1 << width) - 1, slots)
        self.nodes.append(node)
        return len(self.code_ids) + len(self.nodes) - 1

    def _slots(self, bounds, codes, low, shift, width, start, end) -> array:
        """Return ``2**width`` slots of ``2**shift`` addresses from ``low``.

        ``bounds[start:end]`` are the boundaries inside the whole range, and
        ``codes[start - 1]`` is the answer at ``low``.
        """
        size = 1 << shift
        slots = array("I")
        filled = 0
        position = start
        while position < end:
            slot = (bounds[position] - low) >> shift
            slots.extend(
                array("I", [self.code_ids[codes[position - 1]]]) * (slot - filled)
            )
            slot_low = low + (slot << shift)
            if bounds[position] == slot_low:
                position += 1
            after = bisect_right(bounds, slot_low + size - 1, position, end)
            slots.append(self._node(bounds, codes, slot_low, shift, position, after))
            filled = slot + 1
            position = after
        remaining = (1 << width) - filled
        slots.extend(array("I", [self.code_ids[codes[position - 1]]]) * remaining)
        return slots


def _make_lookups(tables: _Tables) -> tuple[Callable, Callable]:
    code_count = len(tables.codes)
    v6_shift = tables.v6_cut * 8 - TOP_BITS
    # IPv6 numbers above this are not IPv4-mapped, no need to compare bytes.
    mapped_above = 0 if tables.v6_cut == 8 else (1 << 48) - 1

    # Defaults bind every name the hot path uses as a local variable, the
    # fastest access CPython has. The descent is written out in both
    # functions: a call would cost more than the rest of an IPv6 lookup.
    def lookup_packed(
        packed: bytes,
        v4_top=tables.v4_top,
        v6_top=tables.v6_top,
        v6_cut=tables.v6_cut,
        v6_shift=v6_shift,
        codes=tables.codes,
        code_count=code_count,
        nodes=tables.nodes,
        prefix=V4_MAPPED_PREFIX,
        from_bytes=int.from_bytes,
        bisect=bisect_right,
        table=tuple,
    ) -> str:
        if packed[:12] == prefix:
            number = from_bytes(packed[12:])
            value = v4_top[number >> V4_SHIFT]
        elif len(packed) == 16:
            number = from_bytes(packed[:v6_cut])
            value = v6_top[number >> v6_shift]
        elif len(packed) == 4:
            number = from_bytes(packed)
            value = v4_top[number >> V4_SHIFT]
        else:
            return ""
        if value < code_count:
            return codes[value]
        node = nodes[value - code_count]
        while node.__class__ is table:
            shift, mask, slots = node
            value = slots[(number >> shift) & mask]
            if value < code_count:
                return codes[value]
            node = nodes[value - code_count]
        bounds, leaf_codes = node
        return leaf_codes[bisect(bounds, number) - 1]

    def lookup(
        address: str | bytes,
        v4_top=tables.v4_top,
        v6_top=tables.v6_top,
        v6_cut=tables.v6_cut,
        v6_shift=v6_shift,
        codes=tables.codes,
        code_count=code_count,
        nodes=tables.nodes,
        prefix=V4_MAPPED_PREFIX,
        mapped_above=mapped_above,
        lookup_packed=lookup_packed,
        pton=inet_pton,
        from_bytes=int.from_bytes,
        bisect=bisect_right,
        text=str,
        table=tuple,
    ) -> str:
        if address.__class__ is not text:
            return lookup_packed(address)
        # Choosing the family first avoids a raised and caught error (about
        # a microsecond) on every IPv6 address.
        try:
            if ":" in address:
                packed = pton(AF_INET6, address)
                number = from_bytes(packed[:v6_cut])
                if number > mapped_above or packed[:12] != prefix:
                    value = v6_top[number >> v6_shift]
                else:
                    number = from_bytes(packed[12:])
                    value = v4_top[number >> V4_SHIFT]
            else:
                number = from_bytes(pton(AF_INET, address))
                value = v4_top[number >> V4_SHIFT]
        except OSError:
            return ""
        if value < code_count:
            return codes[value]
        node = nodes[value - code_count]
        while node.__class__ is table:
            shift, mask, slots = node
            value = slots[(number >> shift) & mask]
            if value < code_count:
                return codes[value]
            node = nodes[value - code_count]
        bounds, leaf_codes = node
        return leaf_codes[bisect(bounds, number) - 1]

    return lookup_packed, lookup


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
