"""Columns of the event changelist and detail page, with drill-down links.

Links only add query parameters to the changelist's own URL (``?src_ip=…``),
with values URL-encoded and HTML-escaped, so nothing an event carries can
become a scheme such as ``javascript:`` or leave the page.
"""

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from events.admin_filters import country_names
from events.models import Event

logger = logging.getLogger(__name__)

# What the detail page shows; text that came from the network goes through
# the admin's ``*_text`` methods, which make control characters visible.
EVENT_DETAIL_FIELDS = [
    "occurred_at",
    "received_at",
    "is_time_inferred",
    "device",
    "action",
    "direction",
    "interface_text",
    "ip_version",
    "protocol_text",
    "src_ip",
    "src_port",
    "src_country",
    "dst_ip",
    "dst_port",
    "dst_country",
    "tcp_flags_text",
    "length",
    "rule_text",
    "hostname_text",
    "extra_text",
]
# Query parameters that choose a time period; kept by the country link.
PERIOD_PARAMS = (
    "since",
    "occurred_at__year",
    "occurred_at__month",
    "occurred_at__day",
)


def drill_link(params: dict, text: str, title: str) -> str:
    return format_html(
        '<a href="?{}" title="{}">{}</a>', urlencode(params), title, text
    )


def endpoint_links(address: str, port: int | None, side: str, port_link: bool) -> str:
    """Render ``address:port``, the address linking to all its events.

    ``side`` is the filter parameter of the address (src_ip or dst_ip); the
    port links to everything sent to that destination port when
    ``port_link`` is set.
    """
    shown = f"[{address}]" if ":" in address and port is not None else address
    address_html = drill_link(
        {side: address},
        shown,
        _("All events from this source")
        if side == "src_ip"
        else _("All events to this address"),
    )
    if port is None:
        return address_html
    if not port_link:
        return format_html("{}:{}", address_html, port)
    return format_html(
        "{}:{}",
        address_html,
        drill_link({"dst_port": port}, str(port), _("All events to this port")),
    )


def source_column(request) -> Callable[[Event], str]:
    @admin.display(description=_("source"), ordering="src_ip")
    def source(obj: Event) -> str:
        return endpoint_links(obj.src_ip, obj.src_port, "src_ip", port_link=False)

    return source


def country_column(request) -> Callable[[Event], str]:
    """Return the source country column, linking to the country's events.

    The link keeps the time period being viewed (time window or date
    drill-down); without one it covers the event's own day.
    """
    period = {key: request.GET[key] for key in PERIOD_PARAMS if key in request.GET}
    names = country_names()

    @admin.display(description=_("country"), ordering="src_country")
    def country(obj: Event) -> str:
        if not obj.src_country:
            return "-"
        params = dict(period) or day_of(obj)
        params["src_country"] = obj.src_country
        return format_html(
            '<a href="?{}" title="{}">{}</a>',
            urlencode(params),
            names.get(obj.src_country, obj.src_country),
            obj.src_country,
        )

    return country


def day_of(obj: Event) -> dict[str, int]:
    local = timezone.localtime(obj.occurred_at)
    return {
        "occurred_at__year": local.year,
        "occurred_at__month": local.month,
        "occurred_at__day": local.day,
    }
