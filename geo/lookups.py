"""Explain the country of one address: code, names, range, snapshot.

Used by ``manage.py geoip`` and the admin's lookup form. The code comes
from the in-memory index (what enrichment stores); the range and snapshot
that gave it are read from the database.
"""

from dataclasses import dataclass

from events.fields import pack_ip, unpack_ip
from geo import index
from geo.models import Country, IPRange


@dataclass(frozen=True, slots=True)
class AddressInfo:
    address: str
    code: str
    country: Country | None
    ip_range: IPRange | None

    @property
    def snapshot(self):
        return self.ip_range.snapshot if self.ip_range else None


def describe(address: str) -> AddressInfo:
    """Return what fwsiem knows about ``address``.

    Raises ValueError when ``address`` is not an IPv4 or IPv6 address.
    Issues up to two queries (country, matching range with its snapshot).
    """
    packed = pack_ip(address.strip())
    code = index.current_index().lookup_packed(packed)
    canonical = unpack_ip(packed)
    if not code:
        return AddressInfo(canonical, "", None, None)

    country = Country.objects.filter(code=code).first()
    active = [snapshot_id for _registry, snapshot_id in index.active_key()]
    ip_range = (
        IPRange.objects.filter(
            snapshot_id__in=active,
            country_code=code,
            start_ip__lte=packed,
            end_ip__gte=packed,
        )
        .select_related("snapshot")
        .order_by("-snapshot__file_date")
        .first()
    )
    return AddressInfo(canonical, code, country, ip_range)
