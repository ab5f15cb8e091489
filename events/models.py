"""Devices, normalized firewall events and the messages that did not parse.

Network abbreviations used in names throughout fwsiem: ``src``/``dst``
(source/destination), ``ip`` (address), ``port``, ``proto`` (protocol).
"""

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
            models.Index(fields=["device", "received_at"], name="unparsed_device_time")
        ]

    def __str__(self) -> str:
        return f"{self.received_at:%Y-%m-%d %H:%M:%S} {self.reason}"
