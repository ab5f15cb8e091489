"""Read a netfilter LOG packet in any layout the kernel writes, token by token.

The body starts at ``IN=`` (the prefix is already cut off). The kernel
(``net/netfilter/nf_log_syslog.c``) writes the interfaces, the IP header,
``PROTO=`` and the transport header in a fixed order, with optional parts
that depend on the rule's flags and the packet: bridge ports, MAC decoding,
IP and TCP options, fragments, IPv6 extension headers, sequence numbers,
socket owner, mark, and for ICMP errors the quoted packet in brackets.

The body is cut at ``PROTO=``: what comes before is the IP part, what comes
after the transport part, so the keys that occur in both (``LEN=``,
``ID=``) are read from the right one. Raise ParseError for a body without
SRC, DST or PROTO, with an address or port that does not read, or a TCP or
UDP part that ends before the key the kernel always writes after the
ports.
"""

from events.parsers.addresses import ipv4, ipv6
from events.parsers.filterlog import PROTOCOLS
from events.parsers.types import ParseError

PROTOCOL_NAMES = {
    "TCP": "tcp",
    "UDP": "udp",
    "UDPLITE": "udplite",
    "ICMP": "icmp",
    "ICMPv6": "icmpv6",
    "AH": "ah",
    "ESP": "esp",
    "SCTP": "sctp",
}
_PORTED = frozenset(("tcp", "udp", "udplite", "sctp"))
# What the kernel always writes after the ports: without it the line was cut.
_AFTER_PORTS = {"tcp": "WINDOW", "udp": "LEN", "udplite": "LEN"}

# Kernel flag words in pf's letter order (FORMATS.md 1).
_TCP_FLAGS = (
    ("FIN", "F"),
    ("SYN", "S"),
    ("RST", "R"),
    ("PSH", "P"),
    ("ACK", "A"),
    ("URG", "U"),
    ("ECE", "E"),
    ("CWR", "C"),
)
_TCP_LETTERS: dict[str, str] = {}
_IP_FLAG_WORDS = frozenset(("CE", "DF", "MF"))
_OPTION_MARKS = frozenset(("OPT", "(", ")"))

# Kernel key -> name in extra, for keys kept as they are (numbers as int).
_IP_EXTRA = {
    "TOS": "tos",
    "PREC": "prec",
    "TTL": "ttl",
    "ID": "ip_id",
    "TC": "traffic_class",
    "HOPLIMIT": "hop_limit",
    "FLOWLBL": "flow_label",
    "MAC": "mac",
    "PHYSIN": "phys_in",
    "PHYSOUT": "phys_out",
}
_TRANSPORT_EXTRA = {
    "tcp": {
        "SEQ": "tcp_seq",
        "ACK": "tcp_ack",
        "WINDOW": "tcp_window",
        "RES": "tcp_reserved",
        "URGP": "tcp_urgent",
    },
    "udp": {"LEN": "udp_length"},
    "udplite": {"LEN": "udp_length"},
    "icmp": {
        "TYPE": "icmp_type",
        "CODE": "icmp_code",
        "ID": "icmp_id",
        "SEQ": "icmp_seq",
        "MTU": "icmp_mtu",
        "GATEWAY": "icmp_gateway",
        "PARAMETER": "icmp_parameter",
    },
    "icmpv6": {
        "TYPE": "icmp_type",
        "CODE": "icmp_code",
        "ID": "icmp_id",
        "SEQ": "icmp_seq",
        "MTU": "icmp_mtu",
        "POINTER": "icmp_pointer",
    },
}
_ANY_TRANSPORT_EXTRA = {"SPI": "spi", "UID": "uid", "GID": "gid", "MARK": "mark"}
_TRANSPORT_NAMES = {
    protocol: names | _ANY_TRANSPORT_EXTRA
    for protocol, names in _TRANSPORT_EXTRA.items()
}
# Written in hex without "0x" (POINTER=%08x): digits that are no number.
_HEX_KEYS = frozenset(("POINTER",))
_READ_IP_KEYS = frozenset(("IN", "OUT", "SRC", "DST", "LEN"))
_READ_TRANSPORT_KEYS = frozenset(("PROTO", "SPT", "DPT"))

# IPv4 addresses already validated; firewall logs repeat the same few.
VALID_IPV4: set[str] = set()
_CACHE_SIZE = 65536

# Interface, direction, IP version, protocol, source, destination, source
# port, destination port, TCP flags, length.
Packet = tuple[str, str, int, str, str, str, int | None, int | None, str, int]


def read_packet(body: str, extra: dict) -> Packet:
    """Read the packet in ``body`` (from ``IN=`` on); fill ``extra``."""
    if " [" in body:
        body = _cut_quoted_packet(body, extra)
    cut = body.find(" PROTO=")
    if cut < 0:
        raise ParseError(_no_protocol(body))
    ip, words = _fields(body[:cut])
    part = body[cut:]
    transport, transport_words = _fields(part)

    src = ip.get("SRC")
    dst = ip.get("DST")
    if src is None or dst is None:
        raise ParseError("netfilter: no SRC= or DST= before PROTO=")
    version, src, dst = addresses(src, dst)
    length = ip.get("LEN")
    if length is None or not length.isdigit() or len(length) > 5:
        raise ParseError(f"netfilter: invalid LEN= value {length!r:.20}")
    _keep(ip, _IP_EXTRA, _READ_IP_KEYS, extra)
    if words:
        _ip_words(words, version, extra)

    protocol = _protocol(transport["PROTO"])
    if transport_words and "INCOMPLETE" in transport_words:
        extra["incomplete"] = True
    src_port, dst_port = _ports(protocol, transport, part, extra)
    names = _TRANSPORT_NAMES.get(protocol, _ANY_TRANSPORT_EXTRA)
    _keep(transport, names, _READ_TRANSPORT_KEYS, extra)
    tcp_flags = _transport_words(transport_words, extra) if transport_words else ""

    in_name = ip.get("IN", "")
    out_name = ip.get("OUT", "")
    if in_name and out_name:
        extra["out_interface"] = out_name
    return (
        in_name or out_name,
        _direction(in_name, out_name),
        version,
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags,
        int(length),
    )


def _direction(in_name: str, out_name: str) -> str:
    """``in`` with only IN set, ``out`` with only OUT set, else empty."""
    if in_name:
        return "" if out_name else "in"
    return "out" if out_name else ""


def addresses(src: str, dst: str) -> tuple[int, str, str]:
    """Return the IP version and both addresses in canonical text.

    IPv6 comes fully expanded from the kernel and is compressed (RFC 5952).
    Raise ParseError for an address that does not read, or mixed versions.
    """
    if ":" in src:
        src_ip = ipv6(src)
        if src_ip is None:
            raise _bad_address("source", src)
        dst_ip = ipv6(dst)
        if dst_ip is None:
            raise _bad_address("destination", dst)
        return 6, src_ip, dst_ip

    if src not in VALID_IPV4 or dst not in VALID_IPV4:
        if ipv4(src) is None:
            raise _bad_address("source", src)
        if ipv4(dst) is None:
            raise _bad_address("destination", dst)
        if len(VALID_IPV4) >= _CACHE_SIZE:
            VALID_IPV4.clear()
        VALID_IPV4.add(src)
        VALID_IPV4.add(dst)
    return 4, src, dst


def tcp_letters(words: str) -> str:
    """Return pf's letters for the kernel's space-separated flag words."""
    letters = _TCP_LETTERS.get(words)
    if letters is None:
        present = words.split()
        letters = "".join(letter for word, letter in _TCP_FLAGS if word in present)
        if len(_TCP_LETTERS) < 1024:
            _TCP_LETTERS[words] = letters
    return letters


def number(text: str) -> int | str:
    """Return a key's value as int when it is a (bounded) number, else text."""
    return int(text) if text.isdigit() and len(text) <= 10 else text


def _cut_quoted_packet(body: str, extra: dict) -> str:
    """Cut the ``[SRC=.. ]`` packet an ICMP error quotes out of ``body``.

    What follows the closing bracket (``MTU=``) stays. ``INCOMPLETE [20
    bytes]`` is not a quoted packet and stays too.
    """
    start = body.find(" [")
    while start >= 0 and body[start + 2 : start + 3].isdigit():
        start = body.find(" [", start + 2)
    if start < 0:
        return body

    depth = 0
    i = start + 1
    while True:
        opening = body.find("[", i + 1)
        closing = body.find("]", i + 1)
        if closing < 0:
            raise ParseError("netfilter: quoted packet without closing bracket")
        if 0 <= opening < closing:
            depth += 1
            i = opening
        elif depth:
            depth -= 1
            i = closing
        else:
            break
    extra["icmp_inner"] = body[start + 2 : closing].strip(" ")
    return body[:start] + body[closing + 1 :]


def _fields(part: str) -> tuple[dict[str, str], list[str]]:
    """Split ``KEY=value`` tokens (first occurrence kept) from bare words."""
    fields: dict[str, str] = {}
    words: list[str] = []
    for token in part.split():
        key, sep, value = token.partition("=")
        if not sep:
            words.append(token)
        elif key not in fields:
            fields[key] = value
    return fields, words


def _keep(
    fields: dict[str, str], names: dict[str, str], read: frozenset[str], extra: dict
) -> None:
    """Copy ``fields`` into ``extra`` under their names; keep unknown keys.

    Keys in ``read`` are already in the record. Unknown keys (``VID=``,
    ``MACSRC=``, ``TUNNEL=``...) go to ``extra["fields"]`` as text.
    """
    for key, value in fields.items():
        name = names.get(key)
        if name is not None:
            if value:
                extra[name] = value if key in _HEX_KEYS else number(value)
        elif key not in read:
            extra.setdefault("fields", {}).setdefault(key, value)


def _ip_words(words: list[str], version: int, extra: dict) -> None:
    """Read flag words, fragment and option groups of the IP header.

    IPv4 writes ``FRAG:n`` in 8-byte units, IPv6 in bytes; both are kept
    in bytes as ``frag_offset``. IPv6's more-fragments mark
    (``INCOMPLETE`` in the fragment header) becomes the ``MF`` flag.
    """
    flags = []
    other = []
    for word in words:
        if word in _IP_FLAG_WORDS:
            flags.append(word)
        elif word.startswith("FRAG:"):
            offset = word[5:]
            if not offset.isdigit() or len(offset) > 5:
                raise ParseError(f"netfilter: invalid fragment {word!r:.20}")
            extra["frag_offset"] = int(offset) * (8 if version == 4 else 1)
        elif word == "INCOMPLETE" and version == 6:
            flags.append("MF")
        elif word.startswith("ID:"):
            extra["frag_id"] = word[3:]
        elif word[:1] == "(" and word[-1:] == ")" and len(word) > 2:
            extra["ip_options"] = word[1:-1]
        elif word == "TRUNCATED":
            extra["incomplete"] = True
        elif word not in _OPTION_MARKS:
            other.append(word)
    if flags:
        extra["ip_flags"] = " ".join(flags)
    if other:
        extra["words"] = other


def _protocol(text: str) -> str:
    """Return the protocol name for a ``PROTO=`` value, or raise."""
    name = PROTOCOL_NAMES.get(text)
    if name is not None:
        return name
    if text.isdigit() and len(text) <= 3:
        return PROTOCOLS.get(int(text), text)
    raise ParseError(f"netfilter: unknown protocol {text!r:.20}")


def _ports(
    protocol: str, fields: dict[str, str], part: str, extra: dict
) -> tuple[int | None, int | None]:
    """Return the ports of a TCP, UDP, UDP-Lite or SCTP header, or Nones.

    A non-first fragment or an incomplete header has no ports; other TCP
    and UDP lines without them were cut after ``PROTO=``. ``part`` is
    the transport text: where nothing is bound to follow the ports (SCTP),
    the kernel's trailing space must, or the last port may have been cut.
    """
    spt = fields.get("SPT")
    if protocol not in _PORTED:
        return None, None
    if spt is None:
        if protocol in _AFTER_PORTS and not (
            extra.get("frag_offset") or extra.get("incomplete")
        ):
            raise ParseError("netfilter: no ports after PROTO= (cut short)")
        return None, None

    src_port = _port(spt, "SPT")
    dpt = fields.get("DPT")
    dst_port = _port(dpt, "DPT")
    after = _AFTER_PORTS.get(protocol)
    if after is not None and after not in fields:
        raise ParseError(f"netfilter: line ends before {after}= (cut short)")
    if after is None and part.endswith(f"DPT={dpt}"):
        raise ParseError("netfilter: line ends in DPT= (possibly cut short)")
    return src_port, dst_port


def _transport_words(words: list[str], extra: dict) -> str:
    """Return TCP flag letters; keep TCP options and incomplete headers."""
    flags = []
    for word in words:
        if word[:1] == "(" and word[-1:] == ")" and len(word) > 2:
            extra["tcp_options_hex"] = word[1:-1]
        elif word in ("INCOMPLETE", "TRUNCATED"):
            extra["incomplete"] = True
        elif word == "AE":
            extra["tcp_ae"] = True
        else:
            flags.append(word)
    return tcp_letters(" ".join(flags)) if flags else ""


def _port(text: str | None, key: str) -> int:
    if text is None:
        raise ParseError(f"netfilter: {key}= missing")
    if not (text.isdigit() and len(text) <= 5 and int(text) <= 65535):
        raise ParseError(f"netfilter: invalid {key}= value {text!r:.20}")
    return int(text)


def _bad_address(which: str, text: str) -> ParseError:
    return ParseError(f"netfilter: invalid {which} address {text!r:.60}")


def _no_protocol(body: str) -> str:
    if body.find(" ARP ") >= 0:
        return "netfilter: ARP packet (no IP header)"
    if "SRC=" not in body:
        return "netfilter: no IP header (no SRC=)"
    return "netfilter: no PROTO= (line cut short or IP header truncated)"
