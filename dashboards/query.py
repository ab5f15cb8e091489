"""Run a validated ReportSpec as Django ORM aggregations over events.

Every dimension (``dashboards.dimensions``), metric, filter and bucket
(``dashboards.buckets``) maps to an expression written in code; aliases
are generated (``g0_0``, ``m``, ``t``) and orderings name only those
aliases. A run issues at most three aggregate queries (rank the
top N keys, count them per bucket, count everything else as "other"), plus
small lookups for labels, all under one statement time budget.
"""

import heapq
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import reduce
from operator import and_, or_

from django.conf import settings
from django.db import connections
from django.db.models import (
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dashboards.buckets import (
    BUCKET_LENGTH,
    TRUNCATIONS,
    Window,
    bucket_starts,
    needs_fixed_offset,
    next_bucket,
    normalize,
    sqlite_local_truncation,
    window_offsets,
)
from dashboards.dimensions import (
    DIMENSIONS,
    OTHER,
    Labels,
    country_groups,
)
from dashboards.links import changelist_url, filter_params, inexpressible_note
from dashboards.spec import (
    Bucket,
    CountryMode,
    Dimension,
    Metric,
    RangeUnit,
    ReportSpec,
)
from dashboards.timelimit import time_limit
from events.fields import network_bounds
from events.models import Event, HourlyCount
from events.rollup import complement, current_hours, grain_for, overdue_hours

logger = logging.getLogger(__name__)

# Most (bucket, key) groups fetched to rank and fold event counts in Python
# (see _Run._single_pass); beyond it the database ranks and cuts.
SINGLE_PASS_MAX_GROUPS = 200_000


# What HourlyCount can group by: every dimension but the addresses.
HOURLY_DIMENSIONS = {
    Dimension.DST_PORT,
    Dimension.PROTOCOL,
    Dimension.SRC_COUNTRY,
    Dimension.SRC_COUNTRY_GROUP,
    Dimension.ACTION,
    Dimension.DIRECTION,
    Dimension.INTERFACE,
    Dimension.DEVICE,
    Dimension.RULE,
}

# How long past its settling time an hour may wait for the roll-up job
# (every few minutes, a few minutes per run) before reports mention it.
ROLLUP_LATE = timedelta(minutes=15)

# The dimensions that need the source country column of HourlyCount.
COUNTRY_DIMENSIONS = {Dimension.SRC_COUNTRY, Dimension.SRC_COUNTRY_GROUP}

METRICS = {
    Metric.EVENTS: lambda: Count("pk"),
    Metric.DISTINCT_SOURCES: lambda: Count("src_ip", distinct=True),
    Metric.DISTINCT_PORTS: lambda: Count("dst_port", distinct=True),
}


@dataclass
class Row:
    """One table row: a bucket (or None), a key (or OTHER), its value."""

    bucket: datetime | None
    key: tuple | None
    labels: tuple[str, ...]
    value: int
    link: str | None = None


@dataclass
class Series:
    key: tuple | None
    label: str
    values: list[int]


@dataclass
class ReportResult:
    """What a run found, ready for a table, a chart or an export."""

    spec: ReportSpec
    window: Window
    dimension_titles: list[str]
    metric_title: str
    rows: list[Row]
    buckets: list[datetime] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _sortable(key: tuple) -> tuple:
    """Order keys whose columns may hold None, for a stable tie-break."""
    return tuple(
        (value is None, value if value is not None else 0)
        for part in key
        for value in part
    )


def resolve_window(spec: ReportSpec, now: datetime) -> tuple[Window, list[str]]:
    """Turn the spec's range into a capped window; return notes on caps.

    Caps come from settings read at call time: REPORT_MAX_DAYS and
    REPORT_MAX_BUCKETS. A capped window keeps its end and moves its start.
    """
    notes = []
    if spec.range_last is not None:
        end = now
        unit = timedelta(hours=1) if spec.range_unit == RangeUnit.HOURS else None
        span = spec.range_last * (unit or timedelta(days=1))
        start = end - min(span, timedelta(days=settings.REPORT_MAX_DAYS + 1))
    else:
        start, end = spec.range_from, spec.range_to

    longest = timedelta(days=settings.REPORT_MAX_DAYS)
    if end - start > longest:
        start = end - longest
        notes.append(
            _(
                "The time range was shortened to the last %(days)d days, "
                "the most a report may cover."
            )
            % {"days": settings.REPORT_MAX_DAYS}
        )

    if spec.is_over_time:
        most = BUCKET_LENGTH[spec.bucket] * settings.REPORT_MAX_BUCKETS
        if end - start > most:
            start = end - most
            notes.append(
                _(
                    "The time range was shortened to %(count)d buckets of one "
                    "%(bucket)s, the most a chart may show."
                )
                % {
                    "count": settings.REPORT_MAX_BUCKETS,
                    "bucket": Bucket(spec.bucket).label,
                }
            )
    return Window(start, end), notes


def filtered_events(spec: ReportSpec, window: Window) -> QuerySet:
    """Return the events the spec's time window and filters select."""
    ranges = [(window.start, window.end)]
    return _filtered(Event.objects.all(), spec, "occurred_at", ranges)


def _filtered(
    rows: QuerySet, spec: ReportSpec, time_field: str, ranges: list
) -> QuerySet:
    """Select ``rows`` in the time ``ranges`` that the spec's filters keep.

    ``rows`` is of Event or HourlyCount, whose columns share their names;
    ``ranges`` are (start, end) pairs, end excluded.
    """
    if not ranges:
        return rows.none()
    rows = rows.filter(
        reduce(
            or_,
            (
                Q(**{f"{time_field}__gte": start, f"{time_field}__lt": end})
                for start, end in ranges
            ),
        )
    )
    if spec.actions:
        rows = rows.filter(action__in=spec.actions)
    if spec.directions:
        rows = rows.filter(direction__in=spec.directions)
    if spec.protocols:
        rows = rows.filter(protocol__in=spec.protocols)
    if spec.ports:
        singles = [port.first for port in spec.ports if port.first == port.last]
        ranges = [port for port in spec.ports if port.first != port.last]
        conditions = [Q(dst_port__range=(port.first, port.last)) for port in ranges]
        if singles:
            conditions.append(Q(dst_port__in=singles))
        rows = rows.filter(reduce(or_, conditions))
    if spec.countries:
        countries = Q(src_country__in=spec.countries)
        if spec.country_mode == CountryMode.EXCLUDE:
            countries = ~countries
        rows = rows.filter(countries)
    if spec.devices:
        rows = rows.filter(device_id__in=spec.devices)
    for field_name, networks in (
        ("src_ip", spec.src_networks),
        ("dst_ip", spec.dst_networks),
    ):
        if networks:
            rows = rows.filter(
                reduce(
                    or_,
                    (
                        Q(**{f"{field_name}__range": network_bounds(n)})
                        for n in networks
                    ),
                )
            )
    return rows


def run_report(
    spec: ReportSpec, now: datetime | None = None, seconds: float | None = None
) -> ReportResult:
    """Run ``spec`` and return its rows, series and notes.

    ``now`` (aware) fixes "the last N days"; by default the current time.
    Raises ReportTimeout when the queries exceed ``seconds`` (at most, and
    by default, REPORT_TIME_LIMIT).
    """
    began = time.monotonic()
    now = now or timezone.now()
    window, notes = resolve_window(spec, now)
    top_n = spec.top_n
    if top_n > settings.REPORT_MAX_TOP_N:
        top_n = settings.REPORT_MAX_TOP_N
        notes.append(
            _(
                "Only the top %(count)d are shown, the most a report may "
                "list; the rest are in “other”."
            )
            % {"count": top_n}
        )

    budget = settings.REPORT_TIME_LIMIT
    if seconds is not None:
        budget = min(budget, seconds)
    with time_limit(budget):
        result = _Run(spec, window, top_n).execute()
    result.notes = notes + result.notes
    result.seconds = time.monotonic() - began
    logger.debug("report run seconds=%.3f rows=%d", result.seconds, len(result.rows))
    return result


class _Run:
    """The queries of one report run; aliases are generated here only."""

    def __init__(self, spec: ReportSpec, window: Window, top_n: int):
        self.spec = spec
        self.window = window
        self.top_n = top_n
        self.labels = Labels()
        self.events = filtered_events(spec, window)
        self.metric = METRICS[spec.metric]
        if Dimension.SRC_COUNTRY_GROUP in spec.dimensions:
            self.labels.groups = country_groups()
        self.columns: dict[str, object] = {}
        self.widths: list[int] = []
        for index, dimension in enumerate(spec.dimensions):
            expressions = DIMENSIONS[dimension].columns(self.labels)
            self.widths.append(len(expressions))
            for position, expression in enumerate(expressions):
                self.columns[f"g{index}_{position}"] = expression
        self.aliases = list(self.columns)
        self.notes: list[str] = []
        self.fixed_offset = None
        self.native_sqlite = False
        self.offsets: set[timedelta] = set()
        if spec.is_over_time:
            self._choose_truncation()
        self.sources = self._sources()

    def _sources(self) -> list[tuple[QuerySet, object, str]]:
        """Return where to count: (rows, metric, time field) pairs.

        Event counts may come from HourlyCount for the whole hours it is
        current for and from the events for the rest of the window; the
        sums are the same as the events' own counts. Anything HourlyCount
        cannot answer (distinct counts, addresses, hours that do not
        start local buckets) reads the events alone.
        """
        events = [(self.events, self.metric(), "occurred_at")]
        if not self._countable_by_hour():
            return events

        start, end = self.window.start, self.window.end
        self._note_overdue(start, end)
        hourly = current_hours(start, end)
        if not hourly:
            return events
        rest = complement(start, end, hourly)
        return [
            (
                _filtered(Event.objects.all(), self.spec, "occurred_at", rest),
                self.metric(),
                "occurred_at",
            ),
            (
                _filtered(self._hourly_grain(), self.spec, "hour", hourly),
                Sum("events"),
                "hour",
            ),
        ]

    def _note_overdue(self, start: datetime, end: datetime) -> None:
        """Say so when hours wait for the roll-up job far longer than usual."""
        late = timedelta(seconds=settings.ROLLUP_SETTLE_SECONDS) + ROLLUP_LATE
        overdue = overdue_hours(start, end, late=late)
        if overdue:
            self.notes.append(
                ngettext(
                    "%(count)d hour of this range is not counted for reports "
                    "yet and was read from the events, which is slower: is "
                    "the scheduler (qcluster) running?",
                    "%(count)d hours of this range are not counted for reports "
                    "yet and were read from the events, which is slower: is "
                    "the scheduler (qcluster) running?",
                    overdue,
                )
                % {"count": overdue}
            )

    def _hourly_grain(self) -> QuerySet:
        """Return the rows of the smallest HourlyCount grain the spec needs."""
        dimensions = set(self.spec.dimensions)
        grain = grain_for(
            port=Dimension.DST_PORT in dimensions or bool(self.spec.ports),
            country=bool(dimensions & COUNTRY_DIMENSIONS) or bool(self.spec.countries),
        )
        return HourlyCount.objects.filter(grain=grain)

    def _countable_by_hour(self) -> bool:
        spec = self.spec
        if spec.metric != Metric.EVENTS or spec.src_networks or spec.dst_networks:
            return False
        if not set(spec.dimensions) <= HOURLY_DIMENSIONS:
            return False
        if not spec.is_over_time:
            return True
        # Local buckets start on whole UTC hours only while the zone's
        # offset is a whole number of hours (never in India, in winter
        # on Lord Howe Island).
        return all(offset.total_seconds() % 3600 == 0 for offset in self.offsets)

    def execute(self) -> ReportResult:
        rows = None
        if self.spec.metric == Metric.EVENTS and (
            self.aliases or self.spec.is_over_time or len(self.sources) > 1
        ):
            rows = self._single_pass()
        if rows is None:
            keys, values, more = self._rank() if self.aliases else ([()], {}, False)
            if self.spec.is_over_time:
                rows = self._per_bucket(keys, more)
            else:
                rows = self._totals(keys, values, more)
        self.labels.load([row.key for row in rows], self.spec.dimensions)

        result = ReportResult(
            spec=self.spec,
            window=self.window,
            dimension_titles=[str(Dimension(d).label) for d in self.spec.dimensions],
            metric_title=str(Metric(self.spec.metric).label),
            rows=rows,
            notes=self.notes,
        )
        for row in rows:
            row.labels = self.key_labels(row.key)
        self._link(rows, result.notes)
        if self.spec.is_over_time:
            result.buckets = bucket_starts(self.spec.bucket, self.window)
            result.series = self._series(rows, result.buckets)
        return result

    def _choose_truncation(self) -> None:
        """Pick how ``occurred_at`` is cut into local buckets.

        Django's truncation converts by zone name: on SQLite through a
        Python function called per row (slow over millions of rows), on
        MySQL/MariaDB through CONVERT_TZ, which needs the server's time zone
        tables. Where the offset is the same throughout the window, a fixed
        offset added in SQL gives the same buckets: SQLite then uses its
        own strftime. MySQL/MariaDB without zone tables use the offset at
        the window's end even across a change, and say so.
        """
        self.offsets = window_offsets(self.window)
        end_offset = timezone.localtime(self.window.end).utcoffset()
        vendor = connections["default"].vendor
        if vendor == "sqlite" and len(self.offsets) == 1:
            self.fixed_offset = end_offset
            self.native_sqlite = True
        elif vendor == "mysql" and needs_fixed_offset():
            self.fixed_offset = end_offset
            if len(self.offsets) > 1:
                self.notes.append(
                    _(
                        "The database has no time zone tables, so buckets use "
                        "one UTC offset and can be an hour off before the "
                        "daylight saving change."
                    )
                )

    def _bucket(self, field: str = "occurred_at"):
        """Return the truncation of the time ``field`` to the spec's bucket."""
        if self.native_sqlite:
            return sqlite_local_truncation(self.spec.bucket, self.fixed_offset, field)
        truncation = TRUNCATIONS[self.spec.bucket]
        if self.fixed_offset is None:
            return truncation(field)
        shifted = ExpressionWrapper(
            F(field) + Value(self.fixed_offset),
            output_field=DateTimeField(),
        )
        return truncation(shifted, tzinfo=UTC)

    def _bucket_value(self, value: datetime) -> datetime:
        if self.fixed_offset is None:
            return value
        zone = timezone.get_current_timezone()
        return normalize(value.replace(tzinfo=None).replace(tzinfo=zone))

    def _grouped(
        self,
        events: QuerySet,
        with_bucket: bool,
        metric=None,
        time_field: str = "occurred_at",
    ) -> QuerySet:
        names = list(self.aliases)
        annotations = dict(self.columns)
        if with_bucket:
            annotations["t"] = self._bucket(time_field)
            names.insert(0, "t")
        metric = metric or self.metric()
        return events.annotate(**annotations).values(*names).annotate(m=metric)

    def _single_pass(self) -> list[Row] | None:
        """Rank, count per bucket and fold "other" from one grouped query.

        Event counts add up, so one scan grouped by bucket and key gives
        the ranking (sums over buckets) and "other" exactly; the rank, per
        bucket and "other" queries would read the same rows three times.
        Returns None, for the three-query way, when the groups exceed
        SINGLE_PASS_MAX_GROUPS (many distinct keys: they are better ranked
        and cut in the database).
        """
        over_time = self.spec.is_over_time
        groups = self._groups(over_time)
        if groups is None:
            return None

        totals: dict[tuple, int] = {}
        for (_bucket, key), value in groups.items():
            totals[key] = totals.get(key, 0) + value
        # Only the top keys need their tie-break; the others fold.
        ranked = heapq.nsmallest(
            self.top_n, totals, key=lambda key: (-totals[key], _sortable(key))
        )
        if not over_time:
            rows = [Row(None, key, (), totals[key]) for key in ranked]
            if len(totals) > self.top_n:
                rest = sum(totals.values()) - sum(totals[key] for key in ranked)
                rows.append(Row(None, OTHER, (), rest))
            return rows

        rank = {key: position for position, key in enumerate(ranked)}
        rows, other = [], {}
        for (moment, key), value in groups.items():
            bucket = self._bucket_value(moment)
            if key in rank:
                rows.append(Row(bucket, key, (), value))
            else:
                other[bucket] = other.get(bucket, 0) + value
        rows.extend(Row(bucket, OTHER, (), value) for bucket, value in other.items())
        rows.sort(key=lambda row: (row.bucket, rank.get(row.key, len(rank))))
        return rows

    def _groups(self, over_time: bool) -> dict[tuple, int] | None:
        """Count per (bucket, key) across the sources, summed.

        The bucket is None when the report is not over time. Returns None
        when the groups exceed SINGLE_PASS_MAX_GROUPS.
        """
        if not self.aliases and not over_time:
            value = sum(
                rows.aggregate(m=metric)["m"] or 0
                for rows, metric, _field in self.sources
            )
            return {(None, ()): value}

        names = ["t", *self.aliases] if over_time else list(self.aliases)
        split = self._splitter()
        merged: dict[tuple, int] = {}
        for rows, metric, time_field in self.sources:
            grouped = self._grouped(rows, over_time, metric, time_field)
            grouped = grouped.order_by().values_list(*names, "m")
            for values in grouped[: SINGLE_PASS_MAX_GROUPS + 1]:
                moment = values[0] if over_time else None
                key = split(values[1:-1] if over_time else values[:-1])
                identity = (moment, key)
                # MySQL sums integers as DECIMAL.
                merged[identity] = merged.get(identity, 0) + int(values[-1])
            if len(merged) > SINGLE_PASS_MAX_GROUPS:
                return None
        return merged

    def _splitter(self):
        """Return a function that cuts a flat row of aliases into a key."""
        if all(width == 1 for width in self.widths):
            return lambda flat: tuple((value,) for value in flat)
        bounds = []
        index = 0
        for width in self.widths:
            bounds.append((index, index + width))
            index += width
        return lambda flat: tuple(flat[low:high] for low, high in bounds)

    def _rank(self) -> tuple[list[tuple], dict[tuple, int], bool]:
        """Return the top keys by metric, their values, and if more exist."""
        grouped = self._grouped(self.events, with_bucket=False)
        rows = list(grouped.order_by("-m", *self.aliases)[: self.top_n + 1])
        top = rows[: self.top_n]
        keys = [self._key(row) for row in top]
        values = {key: row["m"] for key, row in zip(keys, top, strict=True)}
        return keys, values, len(rows) > self.top_n

    def _key(self, row: dict) -> tuple:
        key, index = [], 0
        for width in self.widths:
            key.append(
                tuple(row[alias] for alias in self.aliases[index : index + width])
            )
            index += width
        return tuple(key)

    def _key_condition(self, keys: list[tuple]) -> Q:
        """Q matching any of ``keys`` on the generated aliases.

        A compared column is also required to be non-NULL, so that the
        negation (for "other") keeps rows whose column is NULL instead of
        losing them to SQL's three-valued logic.
        """
        conditions = []
        for key in keys:
            values = [value for part in key for value in part]
            parts = []
            for alias, value in zip(self.aliases, values, strict=True):
                parts.append(Q(**{alias: value}))
                if value is not None:
                    parts.append(Q(**{f"{alias}__isnull": False}))
            conditions.append(reduce(and_, parts))
        return reduce(or_, conditions)

    def _totals(self, keys: list[tuple], values: dict, more: bool) -> list[Row]:
        if not self.aliases:
            value = self.events.aggregate(m=self.metric())["m"] or 0
            return [Row(None, (), (), value)]

        rows = [Row(None, key, (), values[key]) for key in keys]
        if more:
            annotated = self.events.annotate(**self.columns)
            other = annotated.exclude(self._key_condition(keys)).aggregate(
                m=self.metric()
            )
            rows.append(Row(None, OTHER, (), other["m"] or 0))
        return rows

    def _per_bucket(self, keys: list[tuple], more: bool) -> list[Row]:
        rows = []
        if keys:
            grouped = self._grouped(self.events, with_bucket=True)
            if self.aliases:
                grouped = grouped.filter(self._key_condition(keys))
            rank = {key: position for position, key in enumerate(keys)}
            for row in grouped.order_by("t", *self.aliases):
                bucket = self._bucket_value(row["t"])
                rows.append(Row(bucket, self._key(row), (), row["m"]))
            rows.sort(key=lambda row: (row.bucket, rank.get(row.key, 0)))
        if more:
            annotated = self.events.annotate(**self.columns).exclude(
                self._key_condition(keys)
            )
            other = annotated.annotate(t=self._bucket())
            for row in other.values("t").annotate(m=self.metric()).order_by("t"):
                rows.append(Row(self._bucket_value(row["t"]), OTHER, (), row["m"]))
            rows.sort(key=lambda row: (row.bucket, row.key is OTHER))
        return rows

    def _link(self, rows: list[Row], notes: list[str]) -> None:
        base = filter_params(self.spec)
        if base is None:
            notes.append(inexpressible_note())
            return

        for row in rows:
            if row.key is OTHER:
                continue
            key_params: dict[str, str] = {}
            for dimension, part in zip(self.spec.dimensions, row.key, strict=True):
                params = DIMENSIONS[dimension].params(part, self.labels)
                if params is None:
                    break
                key_params.update(params)
            else:
                start, end = self.window.start, self.window.end
                if row.bucket is not None:
                    start = max(start, row.bucket)
                    end = min(end, next_bucket(self.spec.bucket, row.bucket))
                row.link = changelist_url(base, start, end, key_params)

    def key_labels(self, key: tuple | None) -> tuple[str, ...]:
        if key is OTHER:
            return tuple(str(_("other")) for _dimension in self.spec.dimensions)
        return tuple(
            str(DIMENSIONS[dimension].label(part, self.labels))
            for dimension, part in zip(self.spec.dimensions, key, strict=True)
        )

    def _series(self, rows: list[Row], buckets: list[datetime]) -> list[Series]:
        position = {bucket: index for index, bucket in enumerate(buckets)}
        series: dict[tuple | None, Series] = {}
        for row in rows:
            if row.key not in series:
                label = (
                    " · ".join(row.labels)
                    if row.labels
                    else str(Metric(self.spec.metric).label)
                )
                series[row.key] = Series(row.key, label, [0] * len(buckets))
            index = position.get(row.bucket)
            if index is not None:
                series[row.key].values[index] += row.value
        ordered = [s for k, s in series.items() if k is not OTHER]
        ordered.sort(key=lambda s: -sum(s.values))
        if OTHER in series:
            ordered.append(series[OTHER])
        return ordered
