"""Parse the IP filter and ``[INSPECT]`` lines of YAMAHA RTX routers.

YAMAHA publishes no grammar; the shapes accepted are those of FORMATS.md 5
(RTX830, RTX1210, RTX1220, RTX1300 and the older RTX1100/1200):

* a static filter hit, ``IFACE VERB at IN|OUT(FILTER) filter: PROTO SRC >
  DST`` with an optional parenthesised note (``(DNS response)``), where
  FILTER is a number or ``default`` and VERB ``Rejected`` or ``Passed``;
* a dynamic filter session, ``[INSPECT] IFACE[in|out][N] PROTO SRC > DST
  (YYYY/MM/DD hh:mm:ss)``, logged when a permitted session is released.

The router sends ``<PRI>`` and the message, nothing else (older firmware
puts one space after the PRI); a relay may put an RFC 3164 header in front,
and exported ``show log`` files start each line with ``YYYY/MM/DD
hh:mm:ss: ``. Endpoints are ``a.b.c.d:port``, bare ``a.b.c.d``, IPv6
``addr.port`` (a dot before the port), ``[addr]:port`` or bare ``addr``.

Times in the message are the router's local time and are read in the
device's zone (``Envelope.tz``). A filter line carries no time of its own:
it is dated by the export prefix, else by the relay's header, else by its
arrival. An ``[INSPECT]`` line is dated by the session's start written in
it; ``extra["session_seconds"]`` is the time from that start to when the
line was logged (export prefix, relay header or arrival, the same order),
so the release time is kept too; the row's ``received_at`` holds the
arrival as for every event.

Every other line the router writes (IKE, DHCP, MAC-filter rejects with
Ethernet addresses, NAT releases, PPP and tunnel state, repeat notices,
``show log`` lines wrapped onto a second line) raises ParseError with a
reason; nothing is read into address fields by guesswork. The message has
no terminator, so a line cut inside its last port would pass as a shorter
port: UDP datagrams arrive whole, and the listener keeps over-long TCP
frames as unparsed.
"""

from datetime import UTC, datetime, timedelta, tzinfo

from events.parsers.addresses import ipv4, ipv6
from events.parsers.filterlog import PROTOCOLS
from events.parsers.numbers import U16
from events.parsers.syslog import Envelope
from events.parsers.types import ParsedEvent, ParseError

_ACTIONS = {"Rejected": "block", "Passed": "pass"}
_DIRECTIONS = {"IN": "in", "OUT": "out"}
_INSPECT_DIRECTIONS = frozenset(("in", "out"))
_ICMPV6_NAMES = frozenset(("icmp6", "icmpv6", "ipv6-icmp"))
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "ICMP": "icmp"}

# Addresses already validated; firewall logs repeat the same few.
_VALID_IPV4: set[str] = set()
_CACHE_SIZE = 65536
_MAX_LINE = 1024

# Local minute text "YYYY/MM/DD hh:mm" -> (zone, UTC time of that minute);
# cleared when full. Sessions and bursts share minutes, and converting a
# local time through a zone costs several microseconds.
_MINUTE_CACHE: dict[str, tuple[tzinfo, datetime]] = {}
# [INSPECT] interface token -> (interface, direction, filter number).
_INSPECT_CACHE: dict[str, tuple[str, str, str]] = {}
_SMALL_CACHE_SIZE = 4096
# Seconds text "00" to "59" -> the time past the minute.
_SECONDS = {f"{second:02}": timedelta(seconds=second) for second in range(60)}


def sniff(envelope: Envelope) -> bool:
    """Say whether a message looks like an RTX filter or INSPECT line.

    Also true for the MAC-filter lines that share the filter line's shape,
    so that they get the RTX parser's reason.
    """
    msg = envelope.msg
    if msg[:9] == "[INSPECT]" or msg[21:30] == "[INSPECT]":
        return True
    return " filter: " in msg and (" at IN(" in msg or " at OUT(" in msg)


def parse(envelope: Envelope) -> ParsedEvent:
    """Parse one RTX line into an event, extending ``envelope.extra``.

    ``extra`` gains "kind" ("filter" or "inspect"), and where present
    "note" (the filter line's annotation), "verb" (a verb other than
    Rejected/Passed, whose action is left empty) and "session_seconds".
    Raise ParseError for every other line, and for a line whose interface,
    filter, address or port does not read.
    """
    msg = envelope.msg
    if len(msg) > _MAX_LINE or not msg.isascii():
        raise ParseError(_not_rtx(msg))
    logged_at = envelope.occurred_at
    if msg[4:5] == "/" and msg[19:21] == ": ":
        logged_at = _local_time(msg[:19], envelope.tz)
        envelope.time_inferred = True
        msg = msg[21:]

    if msg[:10] == "[INSPECT] ":
        return _inspect(envelope, msg, logged_at)
    if msg[:1] == "[":
        raise ParseError(_other_tag(msg))
    return _filter(envelope, msg, logged_at)


def _filter(envelope: Envelope, msg: str, logged_at: datetime) -> ParsedEvent:
    """Read ``IFACE VERB at DIR(FILTER) filter: PROTO SRC > DST [(note)]``."""
    parts = msg.split(None, 9)
    if len(parts) > 1 and parts[1] == "at":
        # A relay's BSD header took the interface for a tag or a host.
        parts.insert(0, _interface_from_header(envelope))
        if len(parts) > 10:
            parts[9:] = [f"{parts[9]} {parts[10]}"]
    if len(parts) < 9 or parts[2] != "at" or parts[4] != "filter:" or parts[7] != ">":
        raise ParseError(_not_filter(parts, msg))

    interface, verb, _, where, _, proto, src, _, dst = parts[:9]
    side, _, number = where.partition("(")
    direction = _DIRECTIONS.get(side)
    rule = number[:-1]
    if direction is None or number[-1:] != ")" or not rule.isalnum():
        raise ParseError(f"yamaha-rtx: invalid filter reference {where!r:.40}")
    src_ip, src_port, version = _endpoint(src, "source")
    dst_ip, dst_port, dst_version = _endpoint(dst, "destination")
    if version != dst_version:
        raise ParseError("yamaha-rtx: source and destination of different IP versions")

    extra = envelope.extra
    extra["kind"] = "filter"
    if len(parts) == 10:
        note = parts[9]
        if note[:1] != "(" or note[-1:] != ")":
            raise ParseError(
                f"yamaha-rtx: unexpected text after destination {note!r:.40}"
            )
        extra["note"] = note[1:-1]
    action = _ACTIONS.get(verb)
    if action is None:
        extra["verb"] = verb
    return ParsedEvent(
        logged_at,
        action or "",
        direction,
        interface,
        version,
        _PROTOCOLS.get(proto) or _protocol(proto),
        src_ip,
        dst_ip,
        src_port,
        dst_port,
        "",
        None,
        rule,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _inspect(envelope: Envelope, msg: str, logged_at: datetime) -> ParsedEvent:
    """Read ``[INSPECT] IFACE[dir][N] PROTO SRC > DST (stamp)``."""
    parts = msg.split()
    if len(parts) != 8 or parts[4] != ">" or msg[-22:-20] != " (" or msg[-1] != ")":
        raise ParseError(_not_inspect(parts))

    token = parts[1]
    interface, direction, rule = _INSPECT_CACHE.get(token) or _inspect_interface(token)
    src_ip, src_port, version = _endpoint(parts[3], "source")
    dst_ip, dst_port, dst_version = _endpoint(parts[5], "destination")
    if version != dst_version:
        raise ParseError("yamaha-rtx: source and destination of different IP versions")
    started_at = _local_time(msg[-20:-1], envelope.tz)

    extra = envelope.extra
    extra["kind"] = "inspect"
    extra["session_seconds"] = int((logged_at - started_at).total_seconds())
    return ParsedEvent(
        started_at,
        "pass",
        direction,
        interface,
        version,
        _PROTOCOLS.get(parts[2]) or _protocol(parts[2]),
        src_ip,
        dst_ip,
        src_port,
        dst_port,
        "",
        None,
        rule,
        envelope.hostname,
        True,
        extra,
    )


def _inspect_interface(token: str) -> tuple[str, str, str]:
    """Split ``PP[01][out][101098]`` into interface, direction and filter."""
    known = _INSPECT_CACHE.get(token)
    if known is not None:
        return known

    head, _, rule = token[:-1].rpartition("[")
    interface, _, direction = head[:-1].rpartition("[")
    if (
        token[-1:] != "]"
        or head[-1:] != "]"
        or direction not in _INSPECT_DIRECTIONS
        or not interface
        or not rule.isdigit()
    ):
        raise ParseError(f"yamaha-rtx: invalid [INSPECT] interface {token!r:.40}")
    if len(_INSPECT_CACHE) >= _SMALL_CACHE_SIZE:
        _INSPECT_CACHE.clear()
    _INSPECT_CACHE[token] = interface, direction, rule
    return interface, direction, rule


def _interface_from_header(envelope: Envelope) -> str:
    """Return the interface a relay's header parse took from the message.

    ``PP[01]`` and ``TUNNEL[1]`` after a BSD header look like a tag with a
    PID; ``LAN2`` with no hostname before it looks like a hostname. The
    router sends neither tag nor hostname, so these are its interface.
    """
    extra = envelope.extra
    pid = extra.get("pid")
    if envelope.app and pid:
        del extra["app"], extra["pid"]
        return f"{envelope.app}[{pid}]"
    if envelope.hostname and not envelope.app:
        interface = envelope.hostname
        envelope.hostname = ""
        return interface
    raise ParseError("yamaha-rtx: filter line without an interface")


def _endpoint(token: str, which: str) -> tuple[str, int | None, int]:
    """Return address, port (None when not written) and IP version."""
    address, sep, port = token.partition(":")
    if ":" in port:
        return _endpoint6(token, which)

    if address not in _VALID_IPV4:
        if ipv4(address) is None:
            raise _bad_address(which, token)
        if len(_VALID_IPV4) >= _CACHE_SIZE:
            _VALID_IPV4.clear()
        _VALID_IPV4.add(address)
    if sep:
        number = U16.get(port)
        return address, _port(port, which, token) if number is None else number, 4
    return address, None, 4


def _endpoint6(token: str, which: str) -> tuple[str, int | None, int]:
    """Read ``addr``, ``addr.port`` or ``[addr]:port`` (FORMATS.md 5.5)."""
    if token[:1] == "[":
        address, sep, port = token[1:].partition("]:")
        if not sep and token[-1] == "]":
            address = token[1:-1]
        canonical = ipv6(address)
        if canonical is None:
            raise _bad_address(which, token)
        return canonical, _port(port, which, token) if sep else None, 6

    # The port form first: the address before the last dot is then cached.
    # Both readings cannot be valid: an address with a dot ends in an IPv4
    # tail of three dots, and cutting at its last dot leaves two.
    address, dot, port = token.rpartition(".")
    if dot and port.isdigit():
        canonical = ipv6(address)
        if canonical is not None:
            number = U16.get(port)
            return canonical, _port(port, which, token) if number is None else number, 6
    canonical = ipv6(token)
    if canonical is None:
        raise _bad_address(which, token)
    return canonical, None, 6


def _port(text: str, which: str, token: str) -> int:
    """Read a port ``U16`` does not hold (leading zeros), or raise."""
    if text.isdigit() and len(text) <= 5:
        port = int(text)
        if port <= 65535:
            return port
    raise ParseError(f"yamaha-rtx: invalid {which} port in {token!r:.60}")


def _protocol(token: str) -> str:
    """Lower-case the protocol word; map a protocol number to its name."""
    name = _PROTOCOLS.get(token)
    if name is not None:
        return name
    if not (token.isalnum() and len(token) <= 16):
        raise ParseError(f"yamaha-rtx: invalid protocol {token!r:.30}")
    name = token.lower()
    if name.isdigit() and len(name) <= 3:
        return PROTOCOLS.get(int(name), name)
    if name in _ICMPV6_NAMES:
        return "icmpv6"
    return name


def _local_time(text: str, tz: tzinfo) -> datetime:
    """Convert ``YYYY/MM/DD hh:mm:ss`` in ``tz`` to an aware UTC datetime.

    Raise ParseError when the text is not that shape or not a real time.
    A local time in a DST gap or fold resolves with fold=0.
    """
    minute = text[:16]
    second = text[17:]
    if text[16:17] != ":" or not second.isdigit() or len(second) != 2:
        raise _bad_time(text)
    cached = _MINUTE_CACHE.get(minute)
    if cached is None or cached[0] is not tz:
        cached = tz, _minute_to_utc(minute, tz)
        if len(_MINUTE_CACHE) >= _SMALL_CACHE_SIZE:
            _MINUTE_CACHE.clear()
        _MINUTE_CACHE[minute] = cached
    past = _SECONDS.get(second)
    if past is None:
        raise _bad_time(text)
    return cached[1] + past


def _minute_to_utc(minute: str, tz: tzinfo) -> datetime:
    """Convert ``YYYY/MM/DD hh:mm`` in ``tz`` to UTC; raise for bad text."""
    fields = (minute[:4], minute[5:7], minute[8:10], minute[11:13], minute[14:16])
    if (
        minute[4:5] != "/"
        or minute[7:8] != "/"
        or minute[10:11] != " "
        or minute[13:14] != ":"
        or not "".join(fields).isdigit()
        or len(minute) != 16
    ):
        raise _bad_time(minute)
    try:
        return datetime(*map(int, fields), tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):  # Overflow: UTC falls outside 1-9999.
        raise _bad_time(minute) from None


def _not_filter(parts: list[str], msg: str) -> str:
    """Name the kind of a line that is not an IP filter hit."""
    if len(parts) >= 9 and parts[6] == ">" and parts[2] == "at":
        return "yamaha-rtx: MAC filter line (Ethernet addresses, no IP packet)"
    if 6 <= len(parts) <= 8 and parts[2:3] == ["at"] and parts[4:5] == ["filter:"]:
        return "yamaha-rtx: wrapped fragment of a filter line (no destination)"
    if msg.startswith("same message repeated"):
        return "yamaha-rtx: repeat notice (same message repeated)"
    return _not_rtx(msg)


def _not_inspect(parts: list[str]) -> str:
    if len(parts) < 8:
        return "yamaha-rtx: wrapped fragment of an [INSPECT] line (no session time)"
    return "yamaha-rtx: malformed [INSPECT] line"


def _other_tag(msg: str) -> str:
    """Name a bracketed message kind, ``[IKE]``, ``[NAT(1000):LAN2]``..."""
    end = msg.find("]", 1, 40)
    tag = msg[1:end] if end > 0 else ""
    name = tag.partition("(")[0].partition(":")[0]
    if not name.isalnum():
        return _not_rtx(msg)
    return f"yamaha-rtx: not a filter line ([{name}] message)"


def _not_rtx(msg: str) -> str:
    return f"yamaha-rtx: not a filter or [INSPECT] line ({msg!r:.40})"


def _bad_address(which: str, token: str) -> ParseError:
    return ParseError(f"yamaha-rtx: invalid {which} address {token!r:.60}")


def _bad_time(text: str) -> ParseError:
    return ParseError(f"yamaha-rtx: invalid time {text!r:.30}")
