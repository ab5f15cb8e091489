"""Who sent a message: peer address to device profile, cached in memory.

The receiving threads look a peer up in a plain dict (no query per
message); the batch writer, which owns a database connection, reloads the
dict periodically and creates devices for senders heard the first time.
"""

import ipaddress
import logging
import zoneinfo
from bisect import bisect_right
from dataclasses import dataclass
from datetime import tzinfo

from django.conf import settings
from django.db import transaction

from events.fields import network_bounds
from events.models import Device, DeviceAddress, network_lines

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """What the parser and the row builder need to know about a sender.

    ``device_id`` is None for a sender not yet in the database; the writer
    creates its Device before the first row is written. ``network_starts``
    and ``network_ends`` are the device's internal networks as sorted,
    non-overlapping ranges of 16-byte stored addresses (see
    ``events.fields``); build them with ``internal_ranges``.
    """

    device_id: int | None
    log_format: str
    tz: tzinfo
    is_enabled: bool
    network_starts: tuple[bytes, ...] = ()
    network_ends: tuple[bytes, ...] = ()

    @classmethod
    def for_device(cls, device: Device, **overrides) -> "DeviceProfile":
        """Return the profile of ``device``; ``overrides`` replace fields."""
        starts, ends = internal_ranges(device.internal_networks)
        values = {
            "device_id": device.pk,
            "log_format": device.log_format,
            "tz": load_zone(device.time_zone),
            "is_enabled": device.is_enabled,
            "network_starts": starts,
            "network_ends": ends,
        }
        return cls(**{**values, **overrides})

    def is_internal(self, address: bytes) -> bool:
        """Tell whether a 16-byte stored address is in an internal network."""
        index = bisect_right(self.network_starts, address) - 1
        return index >= 0 and address <= self.network_ends[index]

    def perimeter(self, src_ip: bytes, dst_ip: bytes) -> str:
        """Return the perimeter direction of a packet, "" without networks.

        Inbound: from outside to an internal address; outbound: the reverse;
        internal: both inside; external: neither (traffic to the firewall's
        own public address, unless that address is listed as internal).
        Costs two bisections over a few byte strings: it runs per event.
        """
        if not self.network_starts:
            return ""
        if self.is_internal(src_ip):
            return "internal" if self.is_internal(dst_ip) else "outbound"
        return "inbound" if self.is_internal(dst_ip) else "external"


def internal_ranges(text: str) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """Return a networks text as sorted, merged (starts, ends) byte ranges.

    Overlapping or adjacent blocks are merged so that one bisection finds
    the only range that can hold an address. An entry that does not parse
    (the model validates, but a row may predate the validation) is logged
    and skipped.
    """
    ranges = []
    for entry in network_lines(text):
        try:
            ranges.append(network_bounds(entry))
        except ValueError:
            logger.warning("invalid internal network skipped entry=%r", entry[:60])
    ranges.sort()

    merged: list[list[bytes]] = []
    for first, last in ranges:
        if merged and int.from_bytes(first) <= int.from_bytes(merged[-1][1]) + 1:
            merged[-1][1] = max(merged[-1][1], last)
        else:
            merged.append([first, last])
    return tuple(r[0] for r in merged), tuple(r[1] for r in merged)


def normalize_peer(address: str) -> str:
    """Return the canonical text of a peer address.

    IPv4-mapped IPv6 peers of a dual-stack socket (``::ffff:192.0.2.1``)
    become plain IPv4 so that one device keeps one identity.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ip)


def load_zone(name: str) -> tzinfo:
    """Return the zone called ``name``, or the configured default zone."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone, using default zone=%r", name)
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class DeviceDirectory:
    """Peer address to DeviceProfile, swapped whole on every reload."""

    def __init__(self) -> None:
        self.profiles: dict[str, DeviceProfile] = {}
        self.default_zone = load_zone(settings.TIME_ZONE)
        self.unknown_profile = DeviceProfile(
            None, Device.LogFormat.AUTO, self.default_zone, True
        )

    def lookup(self, peer: str) -> DeviceProfile | None:
        """Return the sender's profile, the unknown profile, or None.

        None means the sender is unknown and unknown senders are refused.
        """
        profile = self.profiles.get(peer)
        if profile is not None:
            return profile
        if settings.ACCEPT_UNKNOWN_DEVICES:
            return self.unknown_profile
        return None

    def reload(self) -> None:
        """Read every device address from the database (one query)."""
        profiles = {}
        rows = DeviceAddress.objects.select_related("device").all()
        for row in rows:
            profiles[row.address] = DeviceProfile.for_device(row.device)
        self.profiles = profiles

    def ensure_device(self, peer: str) -> DeviceProfile:
        """Return the profile of ``peer``, creating its Device if needed.

        The new device is named after its address, detects its format per
        line and uses the default time zone until an operator edits it.
        """
        profile = self.profiles.get(peer)
        if profile is not None and profile.device_id is not None:
            return profile

        with transaction.atomic():
            known = DeviceAddress.objects.select_related("device").filter(address=peer)
            row = known.first()
            if row is None:
                device = Device.objects.create(
                    name=self._free_name(peer), time_zone=settings.TIME_ZONE
                )
                DeviceAddress.objects.create(device=device, address=peer)
                logger.info("new device name=%s address=%s", device.name, peer)
            else:
                device = row.device

        profile = DeviceProfile.for_device(device)
        self.profiles = {**self.profiles, peer: profile}
        return profile

    def _free_name(self, peer: str) -> str:
        name = peer
        suffix = 2
        while Device.objects.filter(name=name).exists():
            name = f"{peer} ({suffix})"
            suffix += 1
        return name
