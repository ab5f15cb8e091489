"""Result types shared by every parser; plain Python, no Django import."""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(slots=True)
class ParsedEvent:
    """One normalized filter log entry, before it has a device or a row.

    ``occurred_at`` is aware and in UTC. Text fields use "" for "not said by
    the device" (the schema stores empty strings, not NULL); numeric fields
    use None. ``src_ip``/``dst_ip`` are canonical text: dotted quad, or
    RFC 5952 compressed lower-case IPv6. ``extra`` holds what the format
    offers beyond the schema contract (TTL, reason, PRI, ...), JSON-safe.
    """

    occurred_at: datetime
    action: str = ""
    direction: str = ""
    interface: str = ""
    ip_version: int = 4
    protocol: str = ""
    src_ip: str = ""
    dst_ip: str = ""
    src_port: int | None = None
    dst_port: int | None = None
    tcp_flags: str = ""
    length: int | None = None
    rule: str = ""
    hostname: str = ""
    time_inferred: bool = False
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class ParseFailure:
    """Why a message is not a filter event; the caller keeps the raw bytes.

    ``reason`` is a short English sentence, stable enough to group by.
    ``hostname`` is the envelope's HOSTNAME when the envelope parsed.
    """

    reason: str
    hostname: str = ""


class ParseError(ValueError):
    """Raised inside the parsers for input they reject; never leaves them.

    ``parse_message`` turns it into a ParseFailure whose reason is the
    exception's text, so the text must be a short sentence about the input.
    """
