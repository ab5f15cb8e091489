"""List filters of the event changelist whose choices cost (almost) nothing.

Django's default filters for a plain field list the values found by a
``SELECT DISTINCT`` over the whole event table on every page view, which
takes seconds at ten million rows. These take their choices from static
lists, settings, the device and country tables, or a small cached sample
of the newest events; the value in use is always offered too, so a
drill-down link can set a value that is not among the usual choices.
"""

import logging
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from events.display import visible
from events.fields import network_bounds
from events.models import Device, Event

logger = logging.getLogger(__name__)

# Protocols that firewalls commonly log; any other value still works when
# set through a link or the URL.
COMMON_PROTOCOLS = ["tcp", "udp", "icmp", "icmpv6", "igmp", "gre", "esp", "carp"]
TIME_WINDOWS = {
    "1h": (timedelta(hours=1), _("Last hour")),
    "24h": (timedelta(hours=24), _("Last 24 hours")),
    "7d": (timedelta(days=7), _("Last 7 days")),
    "30d": (timedelta(days=30), _("Last 30 days")),
}
# Names of well-known ports, shown beside the number.
PORT_NAMES = {
    22: "ssh",
    23: "telnet",
    53: "dns",
    80: "http",
    123: "ntp",
    443: "https",
    445: "smb",
    1433: "mssql",
    3389: "rdp",
    5060: "sip",
    5555: "adb",
    6881: "bittorrent",
    8080: "http-alt",
    37215: "huawei",
    52869: "upnp",
}
SAMPLE_SIZE = 5_000
SAMPLE_SECONDS = 300
DEVICE_NAMES_KEY = "fwsiem:events:device-names"
RECENT_BOUND_KEY = "fwsiem:events:recent-bound"


class ValueListFilter(admin.SimpleListFilter):
    """A filter on one exact field value, offering cheap choices.

    Subclasses give ``field`` and ``choices()``; the value in the URL is
    added to the choices when missing so the sidebar shows what is active.
    """

    field = ""

    def choices_for(self, request) -> list[tuple[str, str]]:
        raise NotImplementedError

    def lookups(self, request, model_admin):
        choices = self.choices_for(request)
        current = self.value()
        if current is not None and current not in {str(key) for key, _ in choices}:
            choices = [*choices, (current, visible(current))]
        return choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        return queryset.filter(**{self.field: self.value()})


class TimeWindowFilter(admin.SimpleListFilter):
    title = _("time")
    parameter_name = "since"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (_delta, label) in TIME_WINDOWS.items()]

    def queryset(self, request, queryset):
        window = TIME_WINDOWS.get(self.value() or "")
        if window is None:
            return queryset
        return queryset.filter(occurred_at__gte=timezone.now() - window[0])


class DeviceFilter(ValueListFilter):
    title = _("device")
    parameter_name = "device"
    field = "device_id"

    def choices_for(self, request):
        names = device_names()
        return [
            (str(pk), name)
            for pk, name in sorted(names.items(), key=lambda item: item[1])
        ]

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters(_("Unknown device."))
        return queryset.filter(device_id=int(self.value()))


class ProtocolFilter(ValueListFilter):
    title = _("protocol")
    parameter_name = "protocol"
    field = "protocol"

    def choices_for(self, request):
        return [(name, name) for name in COMMON_PROTOCOLS]


class IPVersionFilter(ValueListFilter):
    title = _("IP version")
    parameter_name = "ip_version"
    field = "ip_version"

    def choices_for(self, request):
        return [("4", "IPv4"), ("6", "IPv6")]

    def queryset(self, request, queryset):
        if self.value() not in (None, "4", "6"):
            raise IncorrectLookupParameters(_("The IP version is 4 or 6."))
        return super().queryset(request, queryset)


class InterfaceFilter(ValueListFilter):
    title = _("interface")
    parameter_name = "interface"
    field = "interface"

    def choices_for(self, request):
        return [(name, visible(name)) for name in recent_values("interface")]


class DestinationPortFilter(ValueListFilter):
    title = _("destination port")
    parameter_name = "dst_port"
    field = "dst_port"

    def choices_for(self, request):
        return [(str(port), port_label(port)) for port in common_ports()]

    def lookups(self, request, model_admin):
        current = self.value()
        choices = self.choices_for(request)
        if current and current.isdigit() and int(current) not in common_ports():
            choices.append((current, port_label(int(current))))
        return choices

    def queryset(self, request, queryset):
        if self.value() is None:
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters(_("A port is a number."))
        return queryset.filter(dst_port=int(self.value()))


class SourceCountryFilter(ValueListFilter):
    title = _("source country")
    parameter_name = "src_country"
    field = "src_country"

    def choices_for(self, request):
        names = country_names()
        if names:
            codes = sorted(names, key=lambda code: names[code].casefold())
        else:
            codes = sorted(code for code in recent_values("src_country") if code)
        return [(code, f"{code} {names.get(code, '')}".strip()) for code in codes]


class AddressFilter(admin.SimpleListFilter):
    """An address or CIDR block on one side, set by drill-down links.

    Shown in the sidebar only while active, so that it can be seen and
    cleared; choosing addresses from a list makes no sense.
    """

    field = ""

    def lookups(self, request, model_admin):
        current = self.value()
        return [(current, visible(current))] if current else []

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            first, last = network_bounds(self.value())
        except ValueError:
            raise IncorrectLookupParameters(_("Not an address or block.")) from None
        return queryset.filter(**{f"{self.field}__range": (first, last)})


class SourceAddressFilter(AddressFilter):
    title = _("source address")
    parameter_name = "src_ip"
    field = "src_ip"


class DestinationAddressFilter(AddressFilter):
    title = _("destination address")
    parameter_name = "dst_ip"
    field = "dst_ip"


def device_names() -> dict[int, str]:
    """Return ``{pk: name}`` of every device, read once per minute.

    The changelist shows device names from this instead of joining the
    device table: with the join, MySQL/MariaDB reads the small device
    table first and sorts the events, ignoring the time index.
    """
    names = cache.get(DEVICE_NAMES_KEY)
    if names is None:
        names = {
            pk: visible(name) for pk, name in Device.objects.values_list("pk", "name")
        }
        cache.set(DEVICE_NAMES_KEY, names, 60)
    return names


def common_ports() -> list[int]:
    """Return the destination ports offered as filter choices (settings)."""
    return list(settings.FWSIEM_COMMON_PORTS)


def port_label(port: int) -> str:
    name = PORT_NAMES.get(port)
    return f"{port} ({name})" if name else str(port)


def recent_values(field: str) -> list[str]:
    """Return the distinct values of ``field`` among the newest events.

    Reads the events since ``recent_bound()`` (about SAMPLE_SIZE rows, by
    the time index) and caches the answer for SAMPLE_SECONDS, so a page
    view costs nothing most of the time and a bounded range scan
    otherwise. Values seen only in older events are missing from the
    choices but still work from a link.
    """
    key = f"fwsiem:events:recent:{field}"
    values = cache.get(key)
    if values is None:
        bound = recent_bound()
        found = set()
        if bound is not None:
            recent = Event.objects.filter(occurred_at__gte=bound)
            found = set(recent.values_list(field, flat=True).distinct())
        values = sorted(found - {""})
        cache.set(key, values, SAMPLE_SECONDS)
    return values


def recent_bound():
    """Return the time of the SAMPLE_SIZE-th newest event (or the oldest).

    Read from the time index alone; asked for the sampled rows directly,
    MySQL/MariaDB may prefer a full scan and a sort. Cached with the
    samples. None when there are no events.
    """
    bound = cache.get(RECENT_BOUND_KEY)
    if bound is None:
        times = Event.objects.order_by("-occurred_at").values_list(
            "occurred_at", flat=True
        )
        found = list(times[SAMPLE_SIZE - 1 : SAMPLE_SIZE]) or [times.last()]
        bound = found[0]
        cache.set(RECENT_BOUND_KEY, bound, SAMPLE_SECONDS)
    return bound


def country_names() -> dict[str, str]:
    """Return ``{code: name}`` from the country table, in the user's language.

    One query per request language every few minutes (cached); empty when
    the geo app's table does not exist.
    """
    try:
        country_model = apps.get_model("geo", "Country")
    except LookupError:
        return {}

    key = f"fwsiem:countries:{translation.get_language()}"
    names = cache.get(key)
    if names is None:
        names = {
            country.code: visible(country.display_name)
            for country in country_model.objects.all()
        }
        cache.set(key, names, SAMPLE_SECONDS)
    return names
