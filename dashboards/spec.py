"""What a report may ask for, as closed lists, and the check enforcing them.

A report definition reaches the query builder only as a ``ReportSpec``,
and the only way to make one is ``parse_spec``, which accepts a flat
mapping of known keys whose values come from the lists below (or are
numbers, dates, ports and networks it parses itself). Nothing a user types
ever becomes a field name, lookup, alias, ordering or truncation kind: the
builder maps these choice values to fixed ORM expressions. Unknown keys
(``_connector``, ``country__name``...) and unknown values are refused here,
before any queryset exists.

No Django database access happens in this module.
"""

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from django.db import models
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _


class RangeUnit(models.TextChoices):
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")


class Bucket(models.TextChoices):
    NONE = "none", _("none (whole range)")
    HOUR = "hour", _("hour")
    DAY = "day", _("day")
    WEEK = "week", _("week")
    MONTH = "month", _("month")


class Dimension(models.TextChoices):
    DST_PORT = "dst_port", _("destination port and protocol")
    PROTOCOL = "protocol", _("protocol")
    SRC_COUNTRY = "src_country", _("source country")
    SRC_COUNTRY_GROUP = "src_country_group", _("source country group")
    SRC_IP = "src_ip", _("source address")
    SRC_NETWORK = "src_network", _("source network (/24 or /48)")
    DST_IP = "dst_ip", _("destination address")
    ACTION = "action", _("action")
    DIRECTION = "direction", _("direction")
    INTERFACE = "interface", _("interface")
    DEVICE = "device", _("device")
    RULE = "rule", _("rule")


class Metric(models.TextChoices):
    EVENTS = "events", _("events")
    DISTINCT_SOURCES = "distinct_sources", _("distinct source addresses")
    DISTINCT_PORTS = "distinct_ports", _("distinct destination ports")


class Chart(models.TextChoices):
    TABLE = "table", _("table only")
    BAR = "bar", _("bar")
    STACKED = "stacked", _("stacked bar over time")
    LINE = "line", _("line over time")


class CountryMode(models.TextChoices):
    INCLUDE = "include", _("only these countries")
    EXCLUDE = "exclude", _("all but these countries")


class ActionChoice(models.TextChoices):
    PASS = "pass", _("pass")
    BLOCK = "block", _("block")
    REJECT = "reject", _("reject")
    OTHER = "", _("other verdict (nat, rdr...)")


class DirectionChoice(models.TextChoices):
    IN = "in", _("in")
    OUT = "out", _("out")
    UNKNOWN = "", _("not said by the device")


class ProtocolChoice(models.TextChoices):
    TCP = "tcp", "tcp"
    UDP = "udp", "udp"
    ICMP = "icmp", "icmp"
    ICMPV6 = "icmpv6", "icmpv6"
    IGMP = "igmp", "igmp"
    GRE = "gre", "gre"
    ESP = "esp", "esp"
    AH = "ah", "ah"
    SCTP = "sctp", "sctp"
    CARP = "carp", "carp"
    PIM = "pim", "pim"


MAX_DIMENSIONS = 2
MAX_LIST_ITEMS = 50
MAX_TEXT_LENGTH = 2000
MAX_RANGE_NUMBER = 100_000
COUNTRY_CODE_RE = re.compile(r"[A-Z]{2}")
PORT_ITEM_RE = re.compile(r"(\d{1,5})(?:\s*-\s*(\d{1,5}))?")
OVER_TIME_CHARTS = frozenset({Chart.STACKED, Chart.LINE})

SPEC_KEYS = frozenset(
    {
        "range_last",
        "range_unit",
        "range_from",
        "range_to",
        "bucket",
        "dimensions",
        "metric",
        "actions",
        "directions",
        "protocols",
        "ports",
        "countries",
        "country_mode",
        "devices",
        "src_networks",
        "dst_networks",
        "top_n",
        "chart",
    }
)


class SpecError(ValueError):
    """A report definition that names something outside the allowlists.

    ``errors`` maps a spec key (or ``"__all__"``) to human messages, ready
    for a form; nothing in it echoes more than a short, quoted user value.
    """

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


@dataclass(frozen=True)
class PortRange:
    first: int
    last: int

    def __str__(self) -> str:
        if self.first == self.last:
            return str(self.first)
        return f"{self.first}-{self.last}"


@dataclass(frozen=True)
class ReportSpec:
    """A validated report definition: every value is from a closed list.

    A relative range (``range_last`` units back from now) is used when
    ``range_last`` is set, otherwise the absolute ``range_from`` to
    ``range_to`` (aware datetimes, end exclusive).
    """

    range_last: int | None = 7
    range_unit: str = RangeUnit.DAYS
    range_from: datetime | None = None
    range_to: datetime | None = None
    bucket: str = Bucket.NONE
    dimensions: tuple[str, ...] = ()
    metric: str = Metric.EVENTS
    actions: tuple[str, ...] = ()
    directions: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()
    ports: tuple[PortRange, ...] = ()
    countries: tuple[str, ...] = ()
    country_mode: str = CountryMode.INCLUDE
    devices: tuple[int, ...] = ()
    src_networks: tuple[str, ...] = ()
    dst_networks: tuple[str, ...] = ()
    top_n: int = 10
    chart: str = Chart.TABLE

    @property
    def is_over_time(self) -> bool:
        return self.bucket != Bucket.NONE


def _quoted(value: object) -> str:
    return repr(str(value)[:40])


class _Checker:
    """Collects one message list per key while values are converted."""

    def __init__(self, data: Mapping[str, object]):
        self.data = data
        self.errors: dict[str, list[str]] = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(key, []).append(str(message))

    def choice(self, key: str, choices: type[models.TextChoices], default: str) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or value not in choices.values:
            self.fail(key, _("Unknown value %s.") % _quoted(value))
            return default
        return value

    def choice_list(self, key: str, choices: type[models.TextChoices]) -> tuple:
        values = self.sequence(key)
        allowed = set(choices.values)
        for value in values:
            if not isinstance(value, str) or value not in allowed:
                self.fail(key, _("Unknown value %s.") % _quoted(value))
                return ()
        return tuple(dict.fromkeys(values))

    def sequence(self, key: str) -> list:
        value = self.data.get(key, ())
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            self.fail(key, _("Expected a list."))
            return []
        items = list(value)
        if len(items) > MAX_LIST_ITEMS:
            self.fail(key, _("At most %d items.") % MAX_LIST_ITEMS)
            return []
        return items

    def integer(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.data.get(key, default)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | str):
            self.fail(key, _("Expected a whole number."))
            return default
        try:
            number = int(value)
        except ValueError:
            self.fail(key, _("Expected a whole number, not %s.") % _quoted(value))
            return default
        if not low <= number <= high:
            self.fail(
                key,
                _("Must be between %(low)d and %(high)d.") % {"low": low, "high": high},
            )
            return default
        return number

    def moment(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, str) and len(value) <= 40:
            value = parse_datetime(value.strip())
        if not isinstance(value, datetime):
            self.fail(key, _("Expected a date and time."))
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value


def parse_ports(value: object) -> tuple[PortRange, ...]:
    """Parse ``"23, 6881, 1000-2000"`` (or a list of such items).

    Raises ValueError with a message for a person when an item is not a
    port or a range of ports 0-65535.
    """
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise ValueError(_("The list of ports is too long."))
        items = _rejoin_ranges(value)
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = [str(item).strip() for item in value]
    else:
        raise ValueError(_("Expected ports such as 23, 6881, 1000-2000."))

    ranges = []
    for item in items:
        if not item:
            continue
        match = PORT_ITEM_RE.fullmatch(item)
        if not match:
            raise ValueError(_("%s is not a port or a port range.") % _quoted(item))
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        if not 0 <= first <= last <= 65535:
            raise ValueError(
                _("%s is not a port range within 0-65535.") % _quoted(item)
            )
        ranges.append(PortRange(first, last))
    if len(ranges) > MAX_LIST_ITEMS:
        raise ValueError(_("At most %d ports or ranges.") % MAX_LIST_ITEMS)
    return tuple(dict.fromkeys(ranges))


def _rejoin_ranges(text: str) -> list[str]:
    """Split on commas and blanks while keeping ``1000 - 2000`` together."""
    compact = re.sub(r"\s*-\s*", "-", text)
    return [item for item in re.split(r"[,\s]+", compact) if item]


def parse_networks(value: object) -> tuple[str, ...]:
    """Parse CIDR blocks or addresses (text with commas/newlines, or a list).

    Returns canonical ``network/prefix`` strings; raises ValueError with a
    message for a person on anything else.
    """
    if isinstance(value, str):
        if len(value) > MAX_TEXT_LENGTH:
            raise ValueError(_("The list of networks is too long."))
        items = [item for item in re.split(r"[,\s]+", value) if item]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = [str(item).strip() for item in value]
    else:
        raise ValueError(_("Expected networks such as 192.0.2.0/24 or 2001:db8::/32."))

    networks = []
    for item in items:
        if len(item) > 64:
            raise ValueError(_("%s is not a network.") % _quoted(item))
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(_("%s is not a network.") % _quoted(item)) from None
        networks.append(str(network))
    if len(networks) > MAX_LIST_ITEMS:
        raise ValueError(_("At most %d networks.") % MAX_LIST_ITEMS)
    return tuple(dict.fromkeys(networks))


def parse_spec(data: Mapping[str, object]) -> ReportSpec:
    """Check a report definition against the allowlists and convert it.

    ``data`` uses the keys of ``SPEC_KEYS`` only. Raises SpecError listing
    every problem; returns a ReportSpec otherwise. Issues no query.
    """
    if not isinstance(data, Mapping):
        raise SpecError({"__all__": [str(_("A report definition is a mapping."))]})
    unknown = [key for key in data if key not in SPEC_KEYS]
    if unknown:
        names = ", ".join(_quoted(key) for key in unknown[:5])
        raise SpecError({"__all__": [str(_("Unknown settings: %s.") % names)]})

    check = _Checker(data)
    values = {
        "range_last": check.integer("range_last", None, 1, MAX_RANGE_NUMBER),
        "range_unit": check.choice("range_unit", RangeUnit, RangeUnit.DAYS),
        "range_from": check.moment("range_from"),
        "range_to": check.moment("range_to"),
        "bucket": check.choice("bucket", Bucket, Bucket.NONE),
        "dimensions": check.choice_list("dimensions", Dimension),
        "metric": check.choice("metric", Metric, Metric.EVENTS),
        "actions": check.choice_list("actions", ActionChoice),
        "directions": check.choice_list("directions", DirectionChoice),
        "protocols": check.choice_list("protocols", ProtocolChoice),
        "country_mode": check.choice("country_mode", CountryMode, CountryMode.INCLUDE),
        "countries": _countries(check),
        "devices": _devices(check),
        "top_n": check.integer("top_n", 10, 1, MAX_RANGE_NUMBER),
        "chart": check.choice("chart", Chart, Chart.TABLE),
    }
    for key, parser in (
        ("ports", parse_ports),
        ("src_networks", parse_networks),
        ("dst_networks", parse_networks),
    ):
        try:
            values[key] = parser(data.get(key, ()))
        except ValueError as error:
            check.fail(key, str(error))

    _check_combination(check, values)
    if check.errors:
        raise SpecError(check.errors)
    return ReportSpec(**values)


def _countries(check: _Checker) -> tuple[str, ...]:
    codes = []
    for value in check.sequence("countries"):
        if not isinstance(value, str) or not COUNTRY_CODE_RE.fullmatch(value):
            check.fail("countries", _("%s is not a country code.") % _quoted(value))
            return ()
        codes.append(value)
    return tuple(dict.fromkeys(codes))


def _devices(check: _Checker) -> tuple[int, ...]:
    ids = []
    for value in check.sequence("devices"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            check.fail("devices", _("%s is not a device.") % _quoted(value))
            return ()
        ids.append(value)
    return tuple(dict.fromkeys(ids))


def _check_combination(check: _Checker, values: dict) -> None:
    """Refuse definitions whose parts are valid alone but not together."""
    if len(values["dimensions"]) > MAX_DIMENSIONS:
        check.fail("dimensions", _("Choose at most two dimensions."))
    if values["range_last"] is None:
        start, end = values["range_from"], values["range_to"]
        if start is None or end is None:
            check.fail(
                "range_last",
                _("Give either the last N hours or days, or both a start and an end."),
            )
        elif start >= end:
            check.fail("range_to", _("The end must be after the start."))
    over_time = values["bucket"] != Bucket.NONE
    if values["chart"] in OVER_TIME_CHARTS and not over_time:
        check.fail("chart", _("A chart over time needs a time bucket."))
    if values["chart"] == Chart.BAR:
        if over_time:
            check.fail(
                "chart",
                _("Use a stacked bar or a line chart with a time bucket."),
            )
        elif not values["dimensions"]:
            check.fail("chart", _("A bar chart needs at least one dimension."))
