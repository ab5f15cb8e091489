"""Exports of events to spreadsheets and files, and their safety.

Event text comes from the network: an attacker chooses interface names,
rule labels and other fields that end up in exported cells. A spreadsheet
program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and some also after a leading tab, CR or NUL), so every exported
text cell passes through ``escape_formula`` first.
"""

import logging
from decimal import Decimal

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from import_export import fields, resources

from events.models import Device, Event

logger = logging.getLogger(__name__)

# Characters that make a spreadsheet read a cell as a formula (or strip
# themselves and let the next character do so).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")
EXPORT_FIELDS = [
    "occurred_at",
    "received_at",
    "device",
    "action",
    "direction",
    "interface",
    "ip_version",
    "protocol",
    "src_ip",
    "src_port",
    "src_country",
    "dst_ip",
    "dst_port",
    "dst_country",
    "tcp_flags",
    "length",
    "rule",
    "hostname",
]
NUMBER_FIELDS = {"ip_version", "src_port", "dst_port", "length"}


def escape_formula(value):
    """Return ``value`` safe to put into a spreadsheet or CSV cell.

    Text starting with a formula trigger gets a leading apostrophe, which
    spreadsheet programs show as text and do not evaluate. Anything that is
    not a ``str`` (numbers, dates, None, booleans) is returned unchanged, so
    numeric cells stay numeric.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class EventResource(resources.ModelResource):
    """Columns of an event export: the schema contract's names, as text.

    Times are ISO 8601 in the configured time zone (spreadsheet programs
    cannot hold a zone, and a naive time would be ambiguous); the device is
    its name. Every text cell goes through ``escape_formula``.
    """

    occurred_at = fields.Field(attribute="occurred_at", column_name="occurred_at")
    received_at = fields.Field(attribute="received_at", column_name="received_at")
    device = fields.Field(column_name="device")

    class Meta:
        model = Event
        fields = EXPORT_FIELDS
        export_order = EXPORT_FIELDS

    def before_export(self, queryset, **kwargs) -> None:
        # Names from one query instead of a join: joined, MySQL/MariaDB may
        # read the device table first and sort the filtered events.
        self.device_names = dict(Device.objects.values_list("pk", "name"))

    def dehydrate_device(self, event: Event) -> str:
        return self.device_names.get(event.device_id, str(event.device_id))

    def dehydrate_occurred_at(self, event: Event) -> str:
        return timezone.localtime(event.occurred_at).isoformat()

    def dehydrate_received_at(self, event: Event) -> str:
        return timezone.localtime(event.received_at).isoformat()

    def export_field(self, field, instance, **kwargs):
        value = super().export_field(field, instance, **kwargs)
        if isinstance(value, bool | int | float | Decimal):
            return value
        if isinstance(value, str) and is_number_field(field):
            return value
        return escape_formula(value)


def is_number_field(field: fields.Field) -> bool:
    """Tell whether ``field`` holds a number (rendered as text for CSV)."""
    return field.attribute in NUMBER_FIELDS


def export_row_limit() -> int:
    """Return the largest number of rows one export may hold (settings)."""
    return settings.FWSIEM_EXPORT_MAX_ROWS


def exceeds_limit(queryset: QuerySet) -> bool:
    """Tell whether ``queryset`` has more rows than one export may hold.

    Counts at most limit + 1 rows, so the check stays bounded however many
    events match.
    """
    limit = export_row_limit()
    return queryset.order_by()[: limit + 1].count() > limit
