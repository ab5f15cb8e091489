"""A model field that stores IPv4 and IPv6 addresses as sortable bytes.

Every address is kept as 16 bytes in network order, IPv4 as the
IPv4-mapped IPv6 address (``::ffff:a.b.c.d``, RFC 4291 section 2.5.5.2).
Byte order equals numeric order, so a CIDR block or an address range is a
``BETWEEN`` over one column, which an ordinary B-tree index serves on both
SQLite (BLOB, compared with memcmp) and MySQL/MariaDB (BINARY(16)). Django's
GenericIPAddressField stores text, whose order is not numeric, and cannot.
"""

import ipaddress
import socket

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

V4_MAPPED_PREFIX = b"\x00" * 10 + b"\xff\xff"


def pack_ip(text: str) -> bytes:
    """Return the 16-byte storage form of an IPv4 or IPv6 address.

    Raises ValueError for anything that is not a whole address.
    """
    try:
        return V4_MAPPED_PREFIX + socket.inet_pton(socket.AF_INET, text)
    except OSError:
        pass

    try:
        return socket.inet_pton(socket.AF_INET6, text)
    except OSError:
        raise ValueError(f"not an IP address: {text[:60]!r}") from None


def unpack_ip(value: bytes) -> str:
    """Return canonical text (dotted quad, or RFC 5952) for stored bytes."""
    value = bytes(value)
    if value[:12] == V4_MAPPED_PREFIX:
        return socket.inet_ntop(socket.AF_INET, value[12:])
    return socket.inet_ntop(socket.AF_INET6, value)


def network_bounds(cidr: str) -> tuple[bytes, bytes]:
    """Return the first and last stored values of a CIDR block.

    Accepts ``a.b.c.d/n``, ``x::/n`` or a bare address (a /32 or /128).
    Host bits set in the block are ignored. Raises ValueError otherwise.
    """
    network = ipaddress.ip_network(cidr.strip(), strict=False)
    first = network.network_address
    last = network.broadcast_address
    if network.version == 4:
        return V4_MAPPED_PREFIX + first.packed, V4_MAPPED_PREFIX + last.packed
    return first.packed, last.packed


class IPAddressBinaryField(models.Field):
    """An IPv4 or IPv6 address held as 16 sortable bytes (see module doc).

    Python values are canonical text. Lookups (``exact``, ``gte``,
    ``range``, ``in``...) accept text and compare bytes; use
    ``network_bounds`` with ``range`` for CIDR queries.
    """

    description = _("IP address (IPv4 or IPv6)")

    def db_type(self, connection) -> str:
        if connection.vendor == "mysql":
            return "binary(16)"
        if connection.vendor == "postgresql":
            return "bytea"
        return "blob"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return unpack_ip(value)

    def to_python(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return unpack_ip(value)
        try:
            return unpack_ip(pack_ip(str(value).strip()))
        except ValueError:
            raise ValidationError(
                _("Enter a valid IPv4 or IPv6 address."), code="invalid"
            ) from None

    def get_prep_value(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        return pack_ip(str(value).strip())

    def value_to_string(self, obj) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"form_class": forms.CharField, **kwargs})
