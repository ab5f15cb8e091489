"""Devices, normalized firewall events and the messages that did not parse.

Network abbreviations used in names throughout fwsiem: ``src``/``dst``
(source/destination), ``ip`` (address), ``port``, ``proto`` (protocol).
"""

import ipaddress
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from events.display import visible
from events.fields import IPAddressBinaryField, network_bounds


def validate_time_zone(value: str) -> None:
    """Reject names that are not IANA time zones known to this system."""
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone name such as Asia/Tokyo."),
            params={"value": value},
            code="invalid_time_zone",
        )


def network_lines(text: str) -> list[str]:
    """Return the CIDR entries of an internal-networks text, in order.

    One entry per line; blank lines and anything after ``#`` are ignored,
    so an operator can label a line (``192.168.1.0/24  # office LAN``).
    """
    entries = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


def validate_networks(value: str) -> None:
    """Reject a text whose entries are not CIDR blocks or bare addresses.

    A block with host bits set (``192.168.1.1/24``) is refused rather than
    silently widened, since it is usually a typo for a different block.
    """
    errors = []
    for entry in network_lines(value):
        try:
            ipaddress.ip_network(entry, strict=True)
        except ValueError:
            errors.append(entry)
    if errors:
        raise ValidationError(
            _(
                "Not a network in CIDR form (such as 192.168.1.0/24 or "
                "2001:db8::/48): %(entries)s"
            ),
            params={"entries": ", ".join(entry[:60] for entry in errors[:5])},
            code="invalid_network",
        )


class Device(models.Model):
    """A firewall that sends logs, identified by the address it sends from.

    Created by an operator, or automatically by the listener the first time
    an unknown sender is heard (when unknown devices are accepted). Its
    format and time zone tell the parser how to read its lines.
    """

    class LogFormat(models.TextChoices):
        AUTO = "auto", _("Detect per line")
        PFSENSE = "pfsense", _("pfSense filterlog")
        OPNSENSE = "opnsense", _("OPNsense filterlog")
        YAMAHA_RTX = "yamaha-rtx", _("YAMAHA RTX")
        NETFILTER = "netfilter", _("Linux netfilter (iptables, nftables)")

    name = models.CharField(_("name"), max_length=100, unique=True)
    hostname = models.CharField(
        _("syslog hostname"),
        max_length=255,
        blank=True,
        help_text=_("The HOSTNAME the device writes in its syslog header, if any."),
    )
    log_format = models.CharField(
        _("log format"),
        max_length=20,
        choices=LogFormat.choices,
        default=LogFormat.AUTO,
        help_text=_("An explicit format always wins over detection."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_(
            "IANA name (e.g. Asia/Tokyo) applied to timestamps that carry no zone."
        ),
    )
    is_enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_("Messages from a disabled device are counted, not stored."),
    )
    internal_networks = models.TextField(
        _("internal networks"),
        blank=True,
        validators=[validate_networks],
        help_text=_(
            "One CIDR block per line (text after # is a comment). Events get a "
            "perimeter direction from these: inbound, outbound, internal or "
            "external. Include the firewall's own public addresses so that "
            "traffic to them counts as inbound."
        ),
    )
    silent_after_minutes = models.PositiveIntegerField(
        _("silent after (minutes)"),
        default=15,
        help_text=_(
            "Flag the device as silent when nothing has been received from it "
            "for this long. 0 turns the flag off."
        ),
    )
    last_seen_at = models.DateTimeField(_("last seen"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DeviceAddress(models.Model):
    """One peer address a device sends from; a device may have several."""

    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        related_name="addresses",
        verbose_name=_("device"),
    )
    address = models.GenericIPAddressField(_("address"), unique=True, unpack_ipv4=True)

    class Meta:
        verbose_name = _("device address")
        verbose_name_plural = _("device addresses")
        ordering = ["address"]

    def __str__(self) -> str:
        return self.address


class EventQuerySet(models.QuerySet):
    def in_network(self, field: str, cidr: str) -> "EventQuerySet":
        """Filter ``field`` (src_ip or dst_ip) to a CIDR block by index range.

        Raises ValueError when ``cidr`` is not a network or an address.
        """
        first, last = network_bounds(cidr)
        return self.filter(**{f"{field}__range": (first, last)})

    def blocked(self) -> "EventQuerySet":
        """Keep events the device blocked or rejected."""
        return self.filter(action__in=[Event.Action.BLOCK, Event.Action.REJECT])

    def since(self, moment) -> "EventQuerySet":
        """Keep events that occurred at or after ``moment`` (aware)."""
        return self.filter(occurred_at__gte=moment)


class Event(models.Model):
    """One normalized filter log entry, as a device logged it.

    Written in bulk by the listener's batch writer (and ``ingestfile``);
    never changed afterwards. Field names are a public contract: users write
    SQL views and BI reports against them.
    """

    class Action(models.TextChoices):
        PASS = "pass", _("pass")
        BLOCK = "block", _("block")
        REJECT = "reject", _("reject")

    class Direction(models.TextChoices):
        IN = "in", _("in")
        OUT = "out", _("out")

    class Perimeter(models.TextChoices):
        INBOUND = "inbound", _("inbound")
        OUTBOUND = "outbound", _("outbound")
        INTERNAL = "internal", _("internal")
        EXTERNAL = "external", _("external")

    occurred_at = models.DateTimeField(_("occurred at"))
    received_at = models.DateTimeField(_("received at"))
    device = models.ForeignKey(
        Device,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("device"),
    )
    action = models.CharField(
        _("action"), max_length=8, choices=Action.choices, blank=True
    )
    direction = models.CharField(
        _("direction"), max_length=3, choices=Direction.choices, blank=True
    )
    perimeter = models.CharField(
        _("perimeter direction"),
        max_length=8,
        choices=Perimeter.choices,
        blank=True,
        default="",
        help_text=_(
            "From the device's internal networks: inbound (outside to inside), "
            "outbound, internal (both inside) or external (neither); empty when "
            "the device has no internal networks."
        ),
    )
    interface = models.CharField(_("interface"), max_length=64, blank=True)
    ip_version = models.PositiveSmallIntegerField(_("IP version"))
    protocol = models.CharField(_("protocol"), max_length=32, blank=True)
    src_ip = IPAddressBinaryField(_("source address"))
    dst_ip = IPAddressBinaryField(_("destination address"))
    src_port = models.PositiveIntegerField(_("source port"), null=True, blank=True)
    dst_port = models.PositiveIntegerField(_("destination port"), null=True, blank=True)
    tcp_flags = models.CharField(_("TCP flags"), max_length=8, blank=True)
    length = models.PositiveIntegerField(_("length"), null=True, blank=True)
    rule = models.CharField(_("rule"), max_length=64, blank=True)
    src_country = models.CharField(_("source country"), max_length=2, blank=True)
    dst_country = models.CharField(_("destination country"), max_length=2, blank=True)
    hostname = models.CharField(_("syslog hostname"), max_length=255, blank=True)
    is_time_inferred = models.BooleanField(
        _("time inferred"),
        default=False,
        help_text=_(
            "The device sent no year or zone; they were taken from the receive "
            "time and the device's time zone."
        ),
    )
    extra = models.JSONField(_("other fields"), default=dict, blank=True)

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        # Each index answers one kind of question over a time range; the
        # equality column comes first so the range scan stays inside it.
        indexes = [
            models.Index(fields=["occurred_at"], name="event_time"),
            models.Index(fields=["dst_port", "occurred_at"], name="event_port_time"),
            models.Index(fields=["src_ip", "occurred_at"], name="event_src_time"),
            models.Index(fields=["device", "occurred_at"], name="event_device_time"),
            # Searches for an address on either side, and the country filter.
            models.Index(fields=["dst_ip", "occurred_at"], name="event_dst_time"),
            models.Index(
                fields=["src_country", "occurred_at"], name="event_country_time"
            ),
            # Reports the hourly counts cannot answer (distinct sources per
            # port, say) read a time range of these columns from the index
            # alone instead of every event row.
            models.Index(
                fields=[
                    "occurred_at",
                    "action",
                    "direction",
                    "protocol",
                    "dst_port",
                    "src_ip",
                ],
                name="event_time_scan",
            ),
        ]
        permissions = [("export_event", _("Can export events"))]

    def __str__(self) -> str:
        port = f":{self.dst_port}" if self.dst_port is not None else ""
        # The protocol is text from the log; shown in page titles.
        protocol = visible(self.protocol)
        return f"{self.action or '-'} {protocol} {self.src_ip} > {self.dst_ip}{port}"


class UnparsedMessage(models.Model):
    """A received message that is not a filter event, kept byte for byte.

    Written by the listener's batch writer with the reason the parser (or
    the database) gave, so that nothing received disappears without a trace.
    """

    received_at = models.DateTimeField(_("received at"), db_index=True)
    sender = models.GenericIPAddressField(_("sender"), null=True, blank=True)
    device = models.ForeignKey(
        Device,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="unparsed_messages",
        verbose_name=_("device"),
    )
    transport = models.CharField(_("transport"), max_length=8, blank=True)
    raw = models.BinaryField(_("raw bytes"))
    reason = models.CharField(_("reason"), max_length=255)

    class Meta:
        verbose_name = _("unparsed message")
        verbose_name_plural = _("unparsed messages")
        indexes = [
            models.Index(fields=["device", "received_at"], name="unparsed_device_time"),
            models.Index(fields=["reason", "received_at"], name="unparsed_reason_time"),
        ]
        permissions = [
            ("reparse_unparsedmessage", _("Can re-parse unparsed messages")),
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason}"


class ImportedFile(models.Model):
    """A saved log file that ``ingestfile`` read to its end.

    ``sha256`` is the digest of the file's bytes: a file with the same
    bytes is refused for the same device unless asked again, so a replay
    run twice does not count every event twice. ``imports`` is how many
    times it was read; the other counts and the time are the last import's.
    """

    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        related_name="imported_files",
        verbose_name=_("device"),
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    lines = models.PositiveIntegerField(_("lines"))
    events = models.PositiveIntegerField(_("events"))
    unparsed = models.PositiveIntegerField(_("unparsed messages"))
    imports = models.PositiveIntegerField(_("times imported"), default=1)
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("imported file")
        verbose_name_plural = _("imported files")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "sha256"], name="imported_file_once_per_device"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.imported_at:%Y-%m-%d %H:%M})"


class IngestMinute(models.Model):
    """What the listener did with one device's messages in one minute.

    Upserted by the listener's health thread (once a minute and at
    shutdown): counts accumulate in memory and are added to the row of
    their minute, so a minute flushed twice (or by two listeners) sums.
    ``device`` is None for messages from unknown senders that were
    refused; they are pooled in one row per minute, because keeping one
    row per refused address would let spoofed UDP sources grow the table.
    """

    minute = models.DateTimeField(_("minute"))
    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="ingest_minutes",
        verbose_name=_("device"),
        # The unique (device, minute) index already starts with the device.
        db_index=False,
    )
    received_count = models.PositiveIntegerField(_("received"), default=0)
    parsed_count = models.PositiveIntegerField(_("parsed"), default=0)
    unparsed_count = models.PositiveIntegerField(_("unparsed"), default=0)
    stored_count = models.PositiveIntegerField(_("stored"), default=0)
    dropped_count = models.PositiveIntegerField(_("dropped"), default=0)

    class Meta:
        verbose_name = _("ingest minute")
        verbose_name_plural = _("ingest minutes")
        constraints = [
            models.UniqueConstraint(
                fields=["device", "minute"], name="ingest_minute_device"
            )
        ]
        indexes = [models.Index(fields=["minute"], name="ingest_minute_time")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.device_id or '-'}"


class ListenerMinute(models.Model):
    """The kernel's view of one UDP socket of the listener in one minute.

    ``kernel_drop_count`` is the growth of the socket's drop counter (the
    ``drops`` column of /proc/net/udp) during the minute: datagrams the
    kernel discarded because the receive buffer was full, which no device
    counter can see. ``receive_buffer_bytes`` is the buffer the kernel
    granted (it doubles the request and caps it at net.core.rmem_max).
    """

    minute = models.DateTimeField(_("minute"))
    endpoint = models.CharField(_("endpoint"), max_length=64)
    kernel_drop_count = models.PositiveBigIntegerField(_("kernel drops"), default=0)
    receive_buffer_bytes = models.PositiveIntegerField(
        _("receive buffer (bytes)"), null=True, blank=True
    )
    queue_depth = models.PositiveIntegerField(_("queue depth"), default=0)

    class Meta:
        verbose_name = _("listener minute")
        verbose_name_plural = _("listener minutes")
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "minute"], name="listener_minute_endpoint"
            )
        ]
        indexes = [models.Index(fields=["minute"], name="listener_minute_time")]

    def __str__(self) -> str:
        return f"{self.minute:%Y-%m-%d %H:%M} {self.endpoint}"


class HourlyCount(models.Model):
    """Events counted per UTC hour and the columns reports group them by.

    A derived table, rebuilt hour by hour from Event by ``events.rollup``;
    reports read it instead of the events for the hours ``RollupHour``
    says are current. Field names are those of Event, so one filter or
    grouping expression serves both tables.

    Each hour is counted at four grains (``events.rollup.Grain``): with or
    without the destination port and with or without the source country,
    the two columns that multiply the rows. A grain without a column holds
    NULL or "" in it; a report reads the smallest grain that has every
    column it groups or filters by.
    """

    grain = models.PositiveSmallIntegerField(_("grain"))
    hour = models.DateTimeField(_("hour"))
    device = models.ForeignKey(
        Device,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("device"),
    )
    action = models.CharField(_("action"), max_length=8, blank=True)
    direction = models.CharField(_("direction"), max_length=3, blank=True)
    interface = models.CharField(_("interface"), max_length=64, blank=True)
    protocol = models.CharField(_("protocol"), max_length=32, blank=True)
    dst_port = models.PositiveIntegerField(_("destination port"), null=True)
    rule = models.CharField(_("rule"), max_length=64, blank=True)
    src_country = models.CharField(_("source country"), max_length=2, blank=True)
    events = models.PositiveBigIntegerField(_("events"))

    class Meta:
        verbose_name = _("hourly count")
        verbose_name_plural = _("hourly counts")
        indexes = [
            models.Index(fields=["grain", "hour"], name="hourly_count_grain_hour"),
            models.Index(
                fields=["grain", "dst_port", "hour"], name="hourly_count_port_hour"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00} {self.events}"


class RollupHour(models.Model):
    """The state of one UTC hour in the HourlyCount table.

    ``marked_at`` is set whenever events of the hour are written (the mark
    says "count again"); a roll-up of the hour clears it only if nobody
    marked the hour meanwhile. Reports trust HourlyCount for an hour only
    when it was rolled up and is not marked; every other hour is read from
    the events, so an hour that never got a row is merely slower.
    """

    hour = models.DateTimeField(_("hour"), primary_key=True)
    marked_at = models.DateTimeField(_("marked at"), null=True)
    rolled_at = models.DateTimeField(_("rolled up at"), null=True)

    class Meta:
        verbose_name = _("roll-up hour")
        verbose_name_plural = _("roll-up hours")
        indexes = [models.Index(fields=["marked_at"], name="rollup_hour_marked")]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:00}"
