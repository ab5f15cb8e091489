"""Parse the pf family ``filterlog`` CSV written by pfSense and OPNsense.

One parser serves both (FORMATS.md 3 and 4): a cursor walks the
comma-separated columns, and what comes next is decided by values already
read, the IP version and then the protocol number, never the protocol name
(its spelling differs between pfSense, OPNsense and IPv4/IPv6). Covered:
pfSense 2.2 to 2025 builds and OPNsense up to the 2026 ICMP rewrite,
including the ``error=`` column, IPv4 fragments, IPv6 extension headers and
trailing or unknown extra columns (kept in ``extra["trailing"]``).

A line that is not filterlog CSV, is cut short, has a non-number where a
number is required or an address that does not parse raises ParseError;
``parse_message`` stores it as unparsed with that reason. Every address and
port column must be followed by a separator, so a cut line never yields a
shortened address or port as if it were whole.
"""

import re

from events.parsers.addresses import ipv4, ipv6
from events.parsers.numbers import U16
from events.parsers.syslog import Envelope, describe_tag
from events.parsers.types import ParsedEvent, ParseError

PROTOCOLS = {
    0: "hopopt",
    1: "icmp",
    2: "igmp",
    6: "tcp",
    17: "udp",
    44: "ipv6-frag",
    47: "gre",
    50: "esp",
    51: "ah",
    58: "icmpv6",
    103: "pim",
    112: "carp",
    132: "sctp",
}

_ACTIONS = {"pass": "pass", "block": "block", "synproxy-drop": "block"}
_DIRECTIONS = {"in": "in", "out": "out"}
_NO_LABEL = frozenset(("", "0", "(null)"))

# Rule number, sub-rule number, anchor (FORMATS.md 2.8 step 7).
_CSV_RE = re.compile(r"\d+,\d*,[^,]*,")
_TCP_FLAGS = "FSRPAUEC"

# Column counts of IPv4 TCP lines, and of UDP and pfSense ICMP echo lines,
# without an error column or trailing columns: the shapes of most lines
# (see ``_fast_ipv4``).
_FAST_TCP_COLUMNS = 29
_FAST_UDP_COLUMNS = 23
# Column count -> the protocol numbers such a line may have there.
_FAST_SHAPES = {
    _FAST_TCP_COLUMNS: frozenset(("6",)),
    _FAST_UDP_COLUMNS: frozenset(("17", "1")),
}
# TCP flags as pf writes them, the letters present in _TCP_FLAGS order:
# one set lookup instead of a strip for nearly every line.
_PF_FLAGS = frozenset(
    "".join(letter for bit, letter in enumerate(_TCP_FLAGS) if mask >> bit & 1)
    for mask in range(256)
)
# 16-bit numbers by lookup (see events.parsers.numbers); text the table
# does not hold (leading zeros, larger values) goes to the column walk.
_U16 = U16

# Addresses already validated by _validate_ipv4.
_VALID_IPV4: set[str] = set()
_CACHE_SIZE = 65536
_MAX_LINE = 4096

# IPv6 hop-by-hop / destination option keywords and how many value columns
# follow each (FORMATS.md 3.5). Options with other layouts end the walk and
# stay in the raw column list.
_IPV6_OPTIONS = {
    "PAD1": 0,
    "PADN": 0,
    "RTALERT": 1,
    "JUMBO": 1,
    "HOMEADDR": 1,
    "BINDINGREQ": 0,
    "TYPE": 2,
}
_IPV6_END_MARKERS = frozenset(("MOBILITY", "IPV6-IN-IPV6", "IPV4-IN-IPV6", "TRUNC"))

# What a protocol section reader returns: source port, destination port,
# TCP flags, index of the first column it did not consume.
Section = tuple[int | None, int | None, str, int]

# filterlog echoes the ICMP payload length glued to the last column.
_ICMP_ECHO_WORDS = frozenset(("request", "reply"))


def sniff(envelope: Envelope) -> bool:
    """Say whether a message looks like filterlog output (tag or CSV shape).

    The pattern is tried only on a message that starts with a digit, as
    its ``\\d`` requires (``str.isdecimal`` is the same class).
    """
    if envelope.app == "filterlog":
        return True
    msg = envelope.msg
    return msg[:1].isdecimal() and _CSV_RE.match(msg) is not None


def parse(envelope: Envelope) -> ParsedEvent:
    """Parse the filterlog CSV in ``envelope.msg`` into one event.

    The envelope's ``extra`` dict is reused and extended with the columns
    that have no place in the schema (TTL, reason, tracker, TCP sequence...).
    Raise ParseError for anything that is not a complete packet line,
    including lines with non-ASCII text or longer than 4096 characters
    (filterlog writes neither).
    """
    cols = _split(envelope)
    numbers = _FAST_SHAPES.get(len(cols))
    if numbers is not None and cols[15] in numbers:
        event = _fast_ipv4(envelope, cols)
        if event is not None:
            return event
    return _walk(envelope, cols)


def _walk(envelope: Envelope, cols: list[str]) -> ParsedEvent:
    """Parse any filterlog line by walking its columns (see ``parse``)."""
    extra = envelope.extra
    rule = _header(cols, extra)
    version = cols[8]
    start = 9
    if cols[9][:6] == "error=":
        extra["error"] = cols[9]
        start = 10

    if version == "4":
        number, length, src, dst, pos = _ipv4(cols, start, extra)
        if extra["frag_offset"]:
            # A non-first fragment carries no transport header.
            section = (None, None, "", pos)
        else:
            section = _V4_SECTIONS.get(number, _other)(cols, pos, extra)
    elif version == "6":
        number, length, src, dst, pos = _ipv6(cols, start, extra)
        section = _V6_SECTIONS.get(number, _other)(cols, pos, extra)
    else:
        raise ParseError(f"filterlog: unsupported IP version {version!r:.20}")

    src_port, dst_port, tcp_flags, pos = section
    if pos < len(cols):
        _keep_trailing(cols, pos, extra)

    return ParsedEvent(
        envelope.occurred_at,
        _ACTIONS.get(cols[6], ""),
        _DIRECTIONS.get(cols[7], ""),
        cols[4],
        4 if version == "4" else 6,
        PROTOCOLS.get(number) or extra["proto_name"].lower(),
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags,
        length,
        rule,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _fast_ipv4(envelope: Envelope, cols: list[str]) -> ParsedEvent | None:
    """Read an IPv4 TCP, UDP or ICMP echo line in one pass, as ``_walk`` would.

    Returns None for anything else, including a line with a bad number or
    TCP flags, which ``_walk`` then reads or reports; only a bad address
    or port raises ParseError here, with the message ``_walk`` would give.
    """
    (
        rule_number,
        sub_rule,
        anchor,
        tracker,
        interface,
        reason,
        action,
        direction,
        version,
        tos,
        ecn,
        ttl,
        ip_id,
        offset,
        ip_flags,
        number,
        name,
        length,
        src,
        dst,
        first,
        second,
        third,
    ) = cols[:_FAST_UDP_COLUMNS]
    if len(cols) == _FAST_TCP_COLUMNS:
        flags, seq, ack, window, urgent, options = cols[_FAST_UDP_COLUMNS:]
        if number != "6" or flags not in _PF_FLAGS and flags.strip(_TCP_FLAGS):
            return None
        protocol = "tcp"
    elif number == "17":
        protocol = "udp"
    elif number == "1" and first in _ICMP_ECHO_WORDS:
        protocol = "icmp"
    else:
        return None
    if version != "4" or offset != "0" or tos[:2] != "0x":
        return None
    u16 = _U16
    try:
        ttl_value = u16[ttl]
        id_value = u16[ip_id]
        length_value = u16[length]
        rule_value = u16[rule_number]
        if protocol != "icmp":
            # Source port, destination port, data length.
            src_port = u16[first]
            dst_port = u16[second]
            data_value = u16[third]
    except KeyError:
        return None
    if src not in _VALID_IPV4 or dst not in _VALID_IPV4:
        _validate_ipv4(src, dst)

    # One store per key: cheaper than update() with a dict literal, which
    # builds a second dict and then grows this one twice.
    extra = envelope.extra
    extra["rule_number"] = rule_value
    extra["sub_rule"] = int(sub_rule) if sub_rule else None
    extra["anchor"] = anchor or None
    extra["tracker"] = tracker or None
    extra["reason"] = reason
    extra["action"] = action
    extra["direction"] = direction
    extra["tos"] = tos
    extra["ecn"] = ecn
    extra["ttl"] = ttl_value
    extra["ip_id"] = id_value
    extra["frag_offset"] = 0
    extra["ip_flags"] = ip_flags
    extra["proto_name"] = name
    if protocol == "tcp":
        extra["tcp_data_length"] = data_value
        extra["tcp_seq"] = seq or None
        extra["tcp_ack"] = (int(ack) if ack.isdigit() else ack) if ack else None
        extra["tcp_window"] = u16.get(window) or _opt_int(window)
        extra["tcp_urgent"] = _opt_int(urgent) if urgent else None
        extra["tcp_options"] = options.split(";") if options else []
    elif protocol == "udp":
        extra["data_length"] = data_value
        flags = ""
    else:
        # The echo word, identifier and sequence number with the payload
        # length glued on, as _icmp reads them.
        extra["icmp_type"] = first
        extra["icmp"] = [second, third]
        _unglue_echo(second, third, length_value - 20, extra)
        src_port = dst_port = None
        flags = ""

    return ParsedEvent(
        envelope.occurred_at,
        _ACTIONS.get(action, ""),
        _DIRECTIONS.get(direction, ""),
        interface,
        4,
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        flags,
        length_value,
        rule_number if tracker in _NO_LABEL else tracker,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _split(envelope: Envelope) -> list[str]:
    """Check the line is filterlog CSV and split it into at least 10 columns.

    Being ASCII lets the rest of the parser trust ``str.isdigit`` (which
    otherwise accepts digits such as "²" that ``int`` rejects); the length
    cap keeps every column below the int-from-text digit limit.
    """
    msg = envelope.msg
    if msg[-1:] == " ":
        msg = msg.rstrip(" ")
    if not msg.isascii() or len(msg) > _MAX_LINE:
        raise ParseError(_unfit(envelope.app, msg))

    cols = msg.split(",")
    # The rule number and sub-rule columns, as _CSV_RE checks them.
    if len(cols) < 3 or not cols[0].isdigit() or cols[1] and not cols[1].isdigit():
        raise ParseError(_not_csv(envelope.app, msg))
    if len(cols) < 10:
        raise _truncated(len(cols))
    return cols


def _header(cols: list[str], extra: dict) -> str:
    """Read columns 1-8 into ``extra``; return the rule id for the schema.

    The id is the tracker (pfSense) or label (OPNsense) in column 4, or the
    rule number when that column is empty, ``0`` or ``(null)``. Columns 1
    and 2 are known to be digits: ``_CSV_RE`` matched them.
    """
    rule_number, sub_rule, anchor, tracker = cols[:4]
    extra["rule_number"] = int(rule_number)
    extra["sub_rule"] = int(sub_rule) if sub_rule else None
    extra["anchor"] = anchor or None
    extra["tracker"] = tracker or None
    extra["reason"] = cols[5]
    extra["action"] = cols[6]
    extra["direction"] = cols[7]
    return rule_number if tracker in _NO_LABEL else tracker


def _ipv4(cols: list[str], i: int, extra: dict) -> tuple[int, int, str, str, int]:
    """Read the IPv4 columns (FORMATS.md 3.4) starting at index ``i``.

    Return protocol number, total length, source, destination and the
    index after the destination, which must not be the end of the line.
    """
    if len(cols) > i and cols[i][:2] != "0x":
        raise _no_ip_header(cols[i], i)
    if len(cols) < i + 12:
        raise _truncated(len(cols))
    tos, ecn, ttl, ip_id, offset, flags, number, name, length, src, dst = cols[
        i : i + 11
    ]
    u16 = _U16
    values = (
        u16.get(ttl),
        u16.get(ip_id),
        u16.get(offset),
        u16.get(number),
        u16.get(length),
    )
    if None in values:
        # Larger numbers or leading zeros: read them the slow way.
        _numbers(
            ("TTL", ttl),
            ("IP id", ip_id),
            ("fragment offset", offset),
            ("protocol number", number),
            ("length", length),
        )
        values = (int(ttl), int(ip_id), int(offset), int(number), int(length))
    if src not in _VALID_IPV4 or dst not in _VALID_IPV4:
        _validate_ipv4(src, dst)

    extra["tos"] = tos
    extra["ecn"] = ecn
    extra["ttl"], extra["ip_id"], extra["frag_offset"] = values[:3]
    extra["ip_flags"] = flags
    extra["proto_name"] = name
    return values[3], values[4], src, dst, i + 11


def _validate_ipv4(src: str, dst: str) -> None:
    """Check both addresses and remember them; raise for the first bad one.

    Firewall logs repeat the same addresses, and a set lookup costs a
    fraction of ``inet_pton``; the set is emptied when full.
    """
    if ipv4(src) is None:
        raise _bad_address("source", src)
    if ipv4(dst) is None:
        raise _bad_address("destination", dst)

    if len(_VALID_IPV4) >= _CACHE_SIZE:
        _VALID_IPV4.clear()
    _VALID_IPV4.add(src)
    _VALID_IPV4.add(dst)


def _ipv6(cols: list[str], i: int, extra: dict) -> tuple[int, int, str, str, int]:
    """Read the IPv6 columns (FORMATS.md 3.5): name before number.

    The length returned is the payload length plus the 40-byte fixed header,
    so that it is the total packet length as for IPv4.
    """
    if len(cols) > i and cols[i][:2] != "0x":
        raise _no_ip_header(cols[i], i)
    if len(cols) < i + 9:
        raise _truncated(len(cols))
    tclass, flow, hops, name, number, payload, src, dst = cols[i : i + 8]
    u16 = _U16
    values = (u16.get(hops), u16.get(number), u16.get(payload))
    if None in values:
        _numbers(
            ("hop limit", hops),
            ("protocol number", number),
            ("payload length", payload),
        )
        values = (int(hops), int(number), int(payload))
    src_ip = ipv6(src)
    if src_ip is None:
        raise _bad_address("source", src)
    dst_ip = ipv6(dst)
    if dst_ip is None:
        raise _bad_address("destination", dst)

    hop_limit, number_value, payload_length = values
    extra["traffic_class"] = tclass
    extra["flow_label"] = flow
    extra["hop_limit"] = hop_limit
    extra["proto_name"] = name
    extra["payload_length"] = payload_length
    return number_value, payload_length + 40, src_ip, dst_ip, i + 8


def _tcp(cols: list[str], i: int, extra: dict) -> Section:
    """Read the nine TCP columns (FORMATS.md 3.6)."""
    if len(cols) < i + 9:
        raise _truncated(len(cols))
    sport, dport, data_length, flags, seq, ack, window, urgent, options = cols[
        i : i + 9
    ]
    src_port, dst_port = _read_ports(sport, dport, data_length, "TCP data length")
    if flags.strip(_TCP_FLAGS):
        raise ParseError(f"filterlog: invalid TCP flags {flags!r:.40}")

    extra["tcp_data_length"] = int(data_length)
    extra["tcp_seq"] = seq or None
    extra["tcp_ack"] = int(ack) if ack.isdigit() else ack or None
    extra["tcp_window"] = int(window) if window.isdigit() else window or None
    extra["tcp_urgent"] = int(urgent) if urgent.isdigit() else urgent or None
    extra["tcp_options"] = options.split(";") if options else []
    return src_port, dst_port, flags, i + 9


def _ports(cols: list[str], i: int, extra: dict) -> Section:
    """Read UDP or SCTP: source port, destination port, length."""
    if len(cols) < i + 3:
        raise _truncated(len(cols))
    sport, dport, data_length = cols[i : i + 3]
    # The common case without a call; _read_ports reads or reports the rest.
    u16 = _U16
    src_port = u16.get(sport)
    dst_port = u16.get(dport)
    length = u16.get(data_length)
    if src_port is None or dst_port is None or length is None:
        src_port, dst_port = _read_ports(sport, dport, data_length, "data length")
        length = int(data_length)

    extra["data_length"] = length
    return src_port, dst_port, "", i + 3


def _read_ports(
    sport: str, dport: str, length: str, length_name: str
) -> tuple[int, int]:
    """Validate two port columns and the length after them; return ports."""
    src_port = _U16.get(sport)
    dst_port = _U16.get(dport)
    if src_port is not None and dst_port is not None and length in _U16:
        return src_port, dst_port

    if not (sport.isdigit() and dport.isdigit() and length.isdigit()):
        _numbers(
            ("source port", sport),
            ("destination port", dport),
            (length_name, length),
        )
    src_port = int(sport)
    dst_port = int(dport)
    if src_port > 65535 or dst_port > 65535:
        raise _port_range(sport, dport)
    return src_port, dst_port


def _icmp(cols: list[str], i: int, extra: dict) -> Section:
    """Read the ICMP/ICMPv6 section in any of its three shapes.

    OPNsense writes ``datalength=N`` alone (21.x-25.x) or followed by type,
    code, id, seq and MTU (2026). pfSense writes a subtype word and free
    columns with the payload length glued onto the last one; they are kept
    raw because their values cannot be trusted (FORMATS.md 3.6).
    """
    first = cols[i]
    if first.startswith("datalength="):
        extra["datalength"] = _datalength(first)
        if len(cols) == i + 1:
            return None, None, "", i + 1
        _require(cols, i + 6)
        extra["icmp_type"] = cols[i + 1]
        extra["icmp_code"] = cols[i + 2]
        extra["icmp_id"] = _opt_int(cols[i + 3])
        extra["icmp_seq"] = _opt_int(cols[i + 4])
        extra["icmp_mtu"] = _opt_int(cols[i + 5])
        return None, None, "", i + 6
    if not first:
        # pfSense ICMPv6: nothing after the addresses but the separator.
        return None, None, "", i + 1

    extra["icmp_type"] = first
    extra["icmp"] = cols[i + 1 :]
    if first in _ICMP_ECHO_WORDS and len(cols) == i + 3:
        # The IPv4 total length column sits three columns back.
        _unglue_echo(cols[i + 1], cols[i + 2], int(cols[i - 3]) - 20, extra)
    return None, None, "", len(cols)


def _unglue_echo(ident: str, glued: str, payload_length: int, extra: dict) -> None:
    """Split ``<seq><length>`` of a pfSense echo line when it is unambiguous.

    The glued length is the IP payload length, total length minus a 20-byte
    header; when the column does not end with it (IP options), nothing is
    split and only the raw columns remain.
    """
    payload = str(payload_length)
    if len(glued) > len(payload) and glued.endswith(payload):
        seq = glued[: -len(payload)]
        if ident.isdigit() and seq.isdigit():
            extra["icmp_id"] = int(ident)
            extra["icmp_seq"] = int(seq)


def _carp(cols: list[str], i: int, extra: dict) -> Section:
    """Read CARP/VRRP: type, TTL, VHID, version, advskew, advbase.

    pfSense prints nothing for VRRP over IPv6 (just the separator).
    """
    if cols[i] == "" and len(cols) == i + 1:
        return None, None, "", i + 1
    _require(cols, i + 6)
    extra["carp_type"] = cols[i]
    extra["carp_ttl"] = _opt_int(cols[i + 1])
    extra["carp_vhid"] = _opt_int(cols[i + 2])
    extra["carp_version"] = _opt_int(cols[i + 3])
    extra["carp_advskew"] = _opt_int(cols[i + 4])
    extra["carp_advbase"] = _opt_int(cols[i + 5])
    return None, None, "", i + 6


def _other(cols: list[str], i: int, extra: dict) -> Section:
    """Read the section of a protocol filterlog has no decoder for.

    That is ``datalength=N``, a tunnel marker (``IPV4-IN-IPV4``), or nothing
    but the separator (pfSense IPv6); anything else is left for "trailing".
    """
    first = cols[i]
    if first.startswith("datalength="):
        extra["datalength"] = _datalength(first)
    elif "-IN-IPV" in first:
        extra["tunnel"] = first
    elif first:
        return None, None, "", i
    return None, None, "", i + 1


def _ipv6_headers(cols: list[str], i: int, extra: dict) -> Section:
    """Walk pfSense's inline IPv6 extension headers (FORMATS.md 3.5).

    The upper-layer protocol is never named on such lines, so its columns
    are not interpreted: all columns after the addresses are kept raw in
    ``extra["ipv6_headers"]``. Parsed out: the fragment header, and a
    ``HOMEADDR`` option's address (validated like the packet's addresses).
    """
    end = len(cols) - 1 if cols[-1] == "" else len(cols)
    extra["ipv6_headers"] = cols[i:end]
    while i < end:
        token = cols[i]
        if token in ("HBH", "DSTOPT"):
            i = _ipv6_options(cols, i + 1, end, extra)
        elif token == "FRAG6":
            _require(cols, i + 3)
            _fragment6(cols[i + 1], extra)
            i += 2
            if extra["frag_offset"]:
                break
            # A first fragment: an empty column, then upper-layer columns.
            if i < end and cols[i] == "":
                i += 1
        else:
            # Tunnel, mobility, routing or upper-layer columns: stop here.
            if token in _IPV6_END_MARKERS:
                extra["ipv6_last_header"] = token
            break
    return None, None, "", len(cols)


def _ipv6_options(cols: list[str], i: int, end: int, extra: dict) -> int:
    """Skip known options after ``HBH``/``DSTOPT``; return the next index."""
    while i < end:
        count = _IPV6_OPTIONS.get(cols[i])
        if count is None:
            break
        if cols[i] == "HOMEADDR":
            _require(cols, i + 3)
            home = ipv6(cols[i + 1].strip(" "))
            if home is None:
                raise _bad_address("home", cols[i + 1])
            extra["home_address"] = home
        i += 1 + count
    return i


def _fragment6(spec: str, extra: dict) -> None:
    """Read `` 0x<id>:<offset>|<length>`` of an IPv6 fragment header."""
    ident, _, rest = spec.strip(" ").partition(":")
    offset, _, length = rest.partition("|")
    if not ident.startswith("0x"):
        raise ParseError(f"filterlog: invalid FRAG6 column {spec!r:.40}")
    extra["frag_id"] = ident
    extra["frag_offset"] = _uint(offset, "fragment offset")
    extra["frag_length"] = _uint(length, "fragment length")


_V4_SECTIONS = {6: _tcp, 17: _ports, 132: _ports, 1: _icmp, 112: _carp}
_V6_SECTIONS = {
    6: _tcp,
    17: _ports,
    132: _ports,
    58: _icmp,
    112: _carp,
    0: _ipv6_headers,
    43: _ipv6_headers,
    44: _ipv6_headers,
    60: _ipv6_headers,
    62: _ipv6_headers,
    135: _ipv6_headers,
}


def _no_ip_header(first: str, i: int) -> ParseError:
    """Report an early-exit marker (``bad-hlen=``, ``truncated-ip6=``...)."""
    return ParseError(f"filterlog: no IP header at column {i + 1} ({first!r:.40})")


def _port_range(source: str, destination: str) -> ParseError:
    return ParseError(f"filterlog: port out of range ({source}, {destination})")


def _keep_trailing(cols: list[str], pos: int, extra: dict) -> None:
    rest = cols[pos:]
    if any(rest):
        extra["trailing"] = rest


def _require(cols: list[str], count: int) -> None:
    """Demand ``count`` columns, i.e. a separator after column count - 1."""
    if len(cols) < count:
        raise _truncated(len(cols))


def _truncated(count: int) -> ParseError:
    return ParseError(f"filterlog: truncated after column {count}")


def _bad_address(which: str, text: str) -> ParseError:
    return ParseError(f"filterlog: invalid {which} address {text!r:.60}")


def _unfit(app: str, msg: str) -> str:
    if _CSV_RE.match(msg) is None:
        return _not_csv(app, msg)
    if len(msg) > _MAX_LINE:
        return f"filterlog: line too long ({len(msg)} characters)"
    return "filterlog: non-ASCII text in line"


def _not_csv(app: str, msg: str) -> str:
    if app == "filterlog":
        return f"filterlog: not a packet line ({msg!r:.40})"
    return f"not a filterlog message ({describe_tag(app)})"


def _uint(text: str, what: str) -> int:
    if text.isdigit():
        return int(text)
    raise ParseError(f"filterlog: {what} is not a number ({text!r:.40})")


def _numbers(*named: tuple[str, str]) -> None:
    """Raise for the first of ``(what, text)`` pairs that is not a number."""
    for what, text in named:
        _uint(text, what)


def _opt_int(text: str) -> int | str | None:
    """Return an optional numeric column as int, None when empty, else raw."""
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _datalength(text: str) -> int:
    return _uint(text[11:], "datalength")
