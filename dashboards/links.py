"""Links from report cells to the same events in the admin changelist.

The changelist filters by field lookups in its query string
(``dst_port__exact=23&occurred_at__gte=...``); every parameter name here is
a constant of this module, and values are URL-encoded. A report filter the
changelist cannot express (excluded countries, several networks, several
port ranges) makes links impossible rather than wrong: a link that showed
more events than the cell counts would mislead.
"""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from dashboards.spec import CountryMode, ReportSpec
from events.fields import network_bounds, unpack_ip


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def filter_params(spec: ReportSpec) -> dict[str, str] | None:
    """Return changelist parameters for the spec's filters.

    None when the changelist cannot express one of them.
    """
    params: dict[str, str] = {}
    if spec.actions:
        params["action__in"] = ",".join(spec.actions)
    if spec.directions:
        params["direction__in"] = ",".join(spec.directions)
    if spec.protocols:
        params["protocol__in"] = ",".join(spec.protocols)
    if spec.devices:
        params["device__id__in"] = ",".join(str(pk) for pk in spec.devices)

    if spec.ports:
        if all(port.first == port.last for port in spec.ports):
            params["dst_port__in"] = ",".join(str(port.first) for port in spec.ports)
        elif len(spec.ports) == 1:
            params["dst_port__gte"] = str(spec.ports[0].first)
            params["dst_port__lte"] = str(spec.ports[0].last)
        else:
            return None

    if spec.countries:
        if spec.country_mode == CountryMode.EXCLUDE:
            return None
        params["src_country__in"] = ",".join(spec.countries)

    for field_name, networks in (
        ("src_ip", spec.src_networks),
        ("dst_ip", spec.dst_networks),
    ):
        if len(networks) > 1:
            return None
        if networks:
            first, last = network_bounds(networks[0])
            params[f"{field_name}__gte"] = unpack_ip(first)
            params[f"{field_name}__lte"] = unpack_ip(last)
    return params


def inexpressible_note() -> str:
    return _(
        "Cells do not link to the events list: it cannot express this "
        "report's excluded countries, several networks or several port ranges."
    )


def changelist_url(
    base: dict[str, str],
    start: datetime,
    end: datetime,
    key_params: dict[str, str],
) -> str:
    """Return the changelist URL for ``base`` filters, a range and a key."""
    params = {
        **base,
        "occurred_at__gte": _moment(start),
        "occurred_at__lt": _moment(end),
    }
    params.update(key_params)
    return f"{reverse('admin:events_event_changelist')}?{urlencode(params)}"
