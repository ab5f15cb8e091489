"""Who sent a message: peer address to device profile, cached in memory.

The receiving threads look a peer up in a plain dict (no query per
message); the batch writer, which owns a database connection, reloads the
dict periodically and creates devices for senders heard the first time.
"""

import ipaddress
import logging
import zoneinfo
from dataclasses import dataclass
from datetime import tzinfo

from django.conf import settings
from django.db import transaction

from events.models import Device, DeviceAddress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """What the parser needs to know about a sender.

    ``device_id`` is None for a sender not yet in the database; the writer
    creates its Device before the first row is written.
    """

    device_id: int | None
    log_format: str
    tz: tzinfo
    is_enabled: bool


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
            device = row.device
            profiles[row.address] = DeviceProfile(
                device.pk,
                device.log_format,
                load_zone(device.time_zone),
                device.is_enabled,
            )
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

        profile = DeviceProfile(
            device.pk, device.log_format, load_zone(device.time_zone), device.is_enabled
        )
        self.profiles = {**self.profiles, peer: profile}
        return profile

    def _free_name(self, peer: str) -> str:
        name = peer
        suffix = 2
        while Device.objects.filter(name=name).exists():
            name = f"{peer} ({suffix})"
            suffix += 1
        return name
