"""Parse Linux netfilter ``LOG`` lines (iptables, ip6tables, nftables ``log``).

The kernel writes ``PREFIX IN=.. OUT=.. [PHYSIN=.. PHYSOUT=..] [MAC=..]``,
the IPv4 or IPv6 header as ``KEY=value`` pairs and flag words, ``PROTO=``
and the transport header (``net/netfilter/nf_log_syslog.c``; FORMATS.md 6).
A relay (rsyslog, syslog-ng, journald) adds the syslog envelope; the
message may start with the kernel's ``[uptime]`` stamp, and the user's log
prefix is glued to ``IN=`` with whatever separator the user chose (ufw
``[UFW BLOCK] ``, firewalld ``FINAL_REJECT: ``, Shorewall
``Shorewall:net2fw:DROP:``, EdgeOS ``[WAN_IN-2000-D]`` with none).

The action comes from the prefix: REJECT gives reject; DROP, BLOCK, DENY
give block; ACCEPT, ALLOW, PASS give pass; an EdgeOS ``-D``/``-A``/``-R``
suffix likewise; anything else, including ufw's ``[UFW AUDIT]``, leaves it
empty, so audit lines never count as blocks. The rule is the prefix
trimmed of blanks and one trailing ``:``.

Keys occurring twice keep their first value for the packet (IP ``LEN=``
and ``ID=``); the second (UDP length, ICMP echo id) goes to ``extra``. The
quoted packet of an ICMP error (``[SRC=.. ]``) is kept as text in
``extra["icmp_inner"]`` and never read as the packet's own fields. IPv6
addresses, written fully expanded, are stored compressed.

Lines without ``IN=``, ``SRC=``, ``DST=`` or ``PROTO=`` raise ParseError:
ARP, the halves of a record a gateway split in two, other kernel messages.
So does a TCP or UDP line that ends before the keys the kernel always
writes after the ports (cut short in transit), so a cut port is never
stored.
"""

import re

from events.parsers.addresses import ipv4, ipv6
from events.parsers.filterlog import PROTOCOLS
from events.parsers.syslog import Envelope
from events.parsers.types import ParsedEvent, ParseError

_MAX_LINE = 4096
# The width of the rule column; a longer prefix (nftables allows 127
# characters) is cut there and kept whole in extra["prefix"].
_RULE_WIDTH = 64

_PROTOCOL_NAMES = {
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
# What the kernel always writes after the ports: a line without it was cut.
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
_TCP_FLAG_WORDS = frozenset(word for word, _ in _TCP_FLAGS) | {"AE"}
_IP_FLAG_WORDS = frozenset(("CE", "DF", "MF"))

_REJECT_WORDS = ("REJECT",)
_BLOCK_WORDS = ("DROP", "BLOCK", "DENY", "DENIED")
_PASS_WORDS = ("ACCEPT", "ALLOW", "PASS")
_EDGEOS_ACTIONS = {"D": "block", "A": "pass", "R": "reject"}

# Keys read into the record or extra; the rest go to extra["fields"].
_IP_KEYS = frozenset(
    ("IN", "OUT", "PHYSIN", "PHYSOUT", "MAC", "SRC", "DST", "LEN")
    + ("TOS", "PREC", "TTL", "ID", "TC", "HOPLIMIT", "FLOWLBL")
)
_TRANSPORT_KEYS = frozenset(
    ("PROTO", "SPT", "DPT", "LEN", "SEQ", "ACK", "WINDOW", "RES", "URGP")
    + ("TYPE", "CODE", "ID", "MTU", "GATEWAY", "PARAMETER", "POINTER", "SPI")
    + ("UID", "GID", "MARK")
)

# Transport keys kept as text in extra when present.
_OPTIONAL_TEXT = (
    ("GATEWAY", "icmp_gateway"),
    ("POINTER", "icmp_pointer"),
    ("SPI", "spi"),
    ("MARK", "mark"),
)

# The layout nearly every line has: IPv4 or IPv6 without extension headers,
# options or fragment offset, then TCP, UDP or ICMP without the optional
# keys (UID, MARK, quoted packet...), in the kernel's fixed order. Each
# group is delimited by a literal key or space, so the match is linear;
# a line it does not take goes through the token reader, which handles
# every layout.
_COMMON_RE = re.compile(
    r"IN=(\S*) OUT=(\S*) (?:MAC=(\S*) )?SRC=(\S+) DST=(\S+) LEN=(\d{1,5}) "
    r"(?:TOS=(0x[0-9A-F]{2}) PREC=(0x[0-9A-F]{2}) TTL=(\d{1,3}) ID=(\d{1,5}) "
    r"((?:CE )?(?:DF )?(?:MF )?)"
    r"|TC=(\d{1,3}) HOPLIMIT=(\d{1,3}) FLOWLBL=(\d{1,7}) )PROTO=(?:"
    r"(TCP) SPT=(\d{1,5}) DPT=(\d{1,5}) (?:SEQ=(\d{1,10}) ACK=(\d{1,10}) )?"
    r"WINDOW=(\d{1,5}) RES=(0x[0-9a-f]{2}) ((?:[A-Z]{2,3} )*)URGP=(\d{1,5})"
    r"|(UDP|UDPLITE) SPT=(\d{1,5}) DPT=(\d{1,5}) LEN=(\d{1,5})"
    r"|(ICMP|ICMPv6) TYPE=(\d{1,3}) CODE=(\d{1,3})(?: ID=(\d{1,5}) SEQ=(\d{1,5}))?"
    r") ?"
)

# What a layout reader returns: interface, direction, IP version,
# protocol, source, destination, ports, TCP flags, length.
Packet = tuple[str, str, int, str, str, str, int | None, int | None, str, int | None]

# Prefix text -> (rule, action, full prefix when cut); cleared when full.
_PREFIX_CACHE: dict[str, tuple[str, str, str]] = {}
_VALID_IPV4: set[str] = set()
_CACHE_SIZE = 65536


def sniff(envelope: Envelope) -> bool:
    """Say whether a message is a kernel line or looks like a LOG line."""
    msg = envelope.msg
    return envelope.app == "kernel" or ("IN=" in msg and " SRC=" in msg)


def parse(envelope: Envelope) -> ParsedEvent:
    """Parse one netfilter LOG line into an event, extending ``extra``.

    The event is dated by the envelope: the kernel's uptime stamp is not a
    wall clock and is only kept, as seconds, in ``extra["uptime"]``. Raise
    ParseError for lines that are not a complete IPv4 or IPv6 packet log.
    """
    msg = envelope.msg
    if len(msg) > _MAX_LINE or not msg.isascii():
        raise ParseError(_not_log(msg))
    extra = envelope.extra
    if msg[:1] == "[":
        msg = _strip_uptime(msg, extra)
    start = _find_in(msg)
    if start < 0:
        raise ParseError(_not_log(msg))

    rule, action = _prefix(msg[:start], extra)
    body = msg[start:]
    match = _COMMON_RE.fullmatch(body)
    if match is not None and _ports_in_range(match):
        packet = _common(match, extra)
    else:
        packet = _any_layout(body, extra)

    interface, direction, version, protocol = packet[:4]
    return ParsedEvent(
        envelope.occurred_at,
        action,
        direction,
        interface,
        version,
        protocol,
        *packet[4:],
        rule,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _common(match: re.Match, extra: dict) -> Packet:
    """Build the packet from a ``_COMMON_RE`` match.

    The result and ``extra`` are the same as ``_any_layout`` gives for the
    line (tests hold the two to that), only faster.
    """
    (
        in_name,
        out_name,
        mac,
        src,
        dst,
        length,
        tos,
        prec,
        ttl,
        ident,
        ip_flags,
        traffic_class,
        hops,
        flow,
        tcp,
        tcp_sport,
        tcp_dport,
        seq,
        ack,
        window,
        reserved,
        flag_words,
        urgent,
        udp,
        udp_sport,
        udp_dport,
        udp_length,
        icmp,
        icmp_type,
        icmp_code,
        icmp_id,
        icmp_seq,
    ) = match.groups()

    if tos is not None:
        version = 4
        if src not in _VALID_IPV4 or dst not in _VALID_IPV4:
            _validate_ipv4(src, dst)
        extra["tos"] = tos
        extra["prec"] = prec
        extra["ttl"] = int(ttl)
        extra["ip_id"] = int(ident)
        if ip_flags:
            extra["ip_flags"] = ip_flags[:-1]
    else:
        version = 6
        src, dst = _ipv6_pair(src, dst)
        extra["traffic_class"] = int(traffic_class)
        extra["hop_limit"] = int(hops)
        extra["flow_label"] = int(flow)
    if in_name and out_name:
        extra["out_interface"] = out_name
    if mac:
        extra["mac"] = mac

    src_port = dst_port = None
    tcp_flags = ""
    if tcp is not None:
        protocol = "tcp"
        src_port = int(tcp_sport)
        dst_port = int(tcp_dport)
        if seq is not None:
            extra["tcp_seq"] = int(seq)
            extra["tcp_ack"] = int(ack)
        extra["tcp_window"] = int(window)
        extra["tcp_reserved"] = reserved
        extra["tcp_urgent"] = int(urgent)
        if flag_words:
            tcp_flags = _transport_words(flag_words.split(), extra)
    elif udp is not None:
        protocol = _PROTOCOL_NAMES[udp]
        src_port = int(udp_sport)
        dst_port = int(udp_dport)
        extra["udp_length"] = int(udp_length)
    else:
        protocol = _PROTOCOL_NAMES[icmp]
        extra["icmp_type"] = int(icmp_type)
        extra["icmp_code"] = int(icmp_code)
        if icmp_id is not None:
            extra["icmp_id"] = int(icmp_id)
            extra["icmp_seq"] = int(icmp_seq)

    direction = ("" if out_name else "in") if in_name else ("out" if out_name else "")
    return (
        in_name or out_name,
        direction,
        version,
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags,
        int(length),
    )


def _ports_in_range(match: re.Match) -> bool:
    """Leave ports above 65535 to ``_any_layout``, which names the error."""
    ports = match.group(16, 17, 25, 26)
    return all(port is None or int(port) <= 65535 for port in ports)


def _any_layout(body: str, extra: dict) -> Packet:
    """Read a packet in any layout the kernel writes, token by token."""
    if " [" in body:
        body = _cut_inner_packet(body, extra)
    cut = body.find(" PROTO=")
    if cut < 0:
        raise ParseError(_no_protocol(body))
    ip, words = _fields(body[:cut])
    transport, transport_words = _fields(body[cut:])

    interface, version, src, dst, length = _ip_header(ip, words, extra)
    protocol = _protocol(transport["PROTO"])
    src_port, dst_port, tcp_flags = _transport(
        protocol, transport, transport_words, extra
    )
    return (
        interface,
        _direction(ip),
        version,
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags,
        length,
    )


def _strip_uptime(msg: str, extra: dict) -> str:
    """Remove a leading ``[ 1234.567890]`` printk stamp, keeping its value."""
    end = msg.find("]", 1, 32)
    stamp = msg[1:end].strip(" ")
    whole, dot, fraction = stamp.partition(".")
    if end < 0 or not (whole.isdigit() and dot and fraction.isdigit()):
        return msg
    extra["uptime"] = float(stamp)
    return msg[end + 1 :].lstrip(" ")


def _find_in(msg: str) -> int:
    """Return where ``IN=`` starts, after the prefix glued before it.

    The first ``IN=`` at the start or after a character that cannot end a
    word (space, ``]``, ``:``), or one right before `` OUT=`` when the
    prefix ends in a letter or digit (``DROPIN=eth0 OUT=``); -1 if none.
    """
    i = msg.find("IN=")
    while i >= 0:
        if i == 0 or not msg[i - 1].isalnum():
            return i
        space = msg.find(" ", i)
        if space > 0 and msg.startswith("OUT=", space + 1):
            return i
        i = msg.find("IN=", i + 3)
    return -1


def _prefix(text: str, extra: dict) -> tuple[str, str]:
    """Return the rule and action the log prefix ``text`` stands for."""
    cached = _PREFIX_CACHE.get(text)
    if cached is None:
        cached = _read_prefix(text)
        if len(_PREFIX_CACHE) >= _CACHE_SIZE:
            _PREFIX_CACHE.clear()
        _PREFIX_CACHE[text] = cached
    rule, action, whole = cached
    if whole:
        extra["prefix"] = whole
    return rule, action


def _read_prefix(text: str) -> tuple[str, str, str]:
    rule = text.strip()
    if rule[-1:] == ":":
        rule = rule[:-1].rstrip()
    whole = ""
    if len(rule) > _RULE_WIDTH:
        whole = rule
        rule = rule[:_RULE_WIDTH]
    return rule, _action(whole or rule), whole


def _action(prefix: str) -> str:
    """Read the verdict a prefix names (FORMATS.md 1 and 7.4)."""
    upper = prefix.upper()
    if "AUDIT" in upper:
        return ""
    if upper[:1] == "[" and upper[-1:] == "]":
        # EdgeOS / VyOS: [RULESET-NUMBER-LETTER].
        parts = upper[1:-1].rsplit("-", 2)
        if len(parts) == 3 and (parts[1].isdigit() or parts[1] == "DEFAULT"):
            action = _EDGEOS_ACTIONS.get(parts[2])
            if action is not None:
                return action
    if any(word in upper for word in _REJECT_WORDS):
        return "reject"
    if any(word in upper for word in _BLOCK_WORDS):
        return "block"
    if any(word in upper for word in _PASS_WORDS):
        return "pass"
    return ""


def _cut_inner_packet(body: str, extra: dict) -> str:
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
            raise ParseError("netfilter: unterminated quoted packet")
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


def _ip_header(
    ip: dict[str, str], words: list[str], extra: dict
) -> tuple[str, int, str, str, int | None]:
    """Read interfaces and the IP header; return what the record needs.

    That is interface, IP version, source, destination and total length.
    """
    src = ip.get("SRC")
    dst = ip.get("DST")
    if src is None or dst is None:
        raise ParseError("netfilter: no SRC= or DST= before PROTO=")
    if ":" in src:
        version = 6
        src_ip, dst_ip = _ipv6_pair(src, dst)
        _ipv6_fields(ip, extra)
    else:
        version = 4
        src_ip = src
        dst_ip = dst
        if src not in _VALID_IPV4 or dst not in _VALID_IPV4:
            _validate_ipv4(src, dst)
        _ipv4_fields(ip, extra)

    length = ip.get("LEN")
    if length is not None:
        length = _uint(length, "LEN")
    interface = _interfaces(ip, extra)
    if words:
        _ip_words(words, version, extra)
    other = ip.keys() - _IP_KEYS
    if other:
        _keep_other(ip, other, extra)
    return interface, version, src_ip, dst_ip, length


def _interfaces(ip: dict[str, str], extra: dict) -> str:
    """Return ``IN=``, else ``OUT=``; keep the other and bridge ports."""
    in_name = ip.get("IN", "")
    out_name = ip.get("OUT", "")
    if in_name and out_name:
        extra["out_interface"] = out_name
    mac = ip.get("MAC")
    if mac:
        extra["mac"] = mac
    if "PHYSIN" in ip:
        extra["phys_in"] = ip["PHYSIN"]
    if "PHYSOUT" in ip:
        extra["phys_out"] = ip["PHYSOUT"]
    return in_name or out_name


def _direction(ip: dict[str, str]) -> str:
    """``in`` with only IN set, ``out`` with only OUT set, else empty."""
    if ip.get("IN"):
        return "" if ip.get("OUT") else "in"
    return "out" if ip.get("OUT") else ""


def _ipv4_fields(ip: dict[str, str], extra: dict) -> None:
    extra["tos"] = ip.get("TOS")
    extra["prec"] = ip.get("PREC")
    ttl = ip.get("TTL")
    extra["ttl"] = None if ttl is None else _uint(ttl, "TTL")
    ident = ip.get("ID")
    extra["ip_id"] = None if ident is None else _uint(ident, "ID")


def _ipv6_fields(ip: dict[str, str], extra: dict) -> None:
    traffic_class = ip.get("TC")
    extra["traffic_class"] = (
        None if traffic_class is None else _uint(traffic_class, "TC")
    )
    hops = ip.get("HOPLIMIT")
    extra["hop_limit"] = None if hops is None else _uint(hops, "HOPLIMIT")
    flow = ip.get("FLOWLBL")
    extra["flow_label"] = None if flow is None else _uint(flow, "FLOWLBL")


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
            offset = _uint(word[5:], "fragment offset")
            extra["frag_offset"] = offset * 8 if version == 4 else offset
        elif word == "INCOMPLETE" and version == 6:
            flags.append("MF")
        elif word.startswith("ID:"):
            extra["frag_id"] = word[3:]
        elif word[:1] == "(" and word[-1:] == ")" and len(word) > 2:
            extra["ip_options"] = word[1:-1]
        elif word == "TRUNCATED":
            extra["incomplete"] = True
        elif word not in ("OPT", "(", ")"):
            other.append(word)
    if flags:
        extra["ip_flags"] = " ".join(flags)
    if other:
        extra["words"] = other


def _protocol(text: str) -> str:
    """Return the protocol name for a ``PROTO=`` value, or raise."""
    name = _PROTOCOL_NAMES.get(text)
    if name is not None:
        return name
    if text.isdigit() and len(text) <= 3:
        return PROTOCOLS.get(int(text), text)
    raise ParseError(f"netfilter: unknown protocol {text!r:.20}")


def _transport(
    protocol: str, fields: dict[str, str], words: list[str], extra: dict
) -> tuple[int | None, int | None, str]:
    """Read the transport header; return ports and TCP flag letters."""
    src_port = dst_port = None
    spt = fields.get("SPT")
    if spt is not None and protocol in _PORTED:
        src_port = _port(spt, "SPT")
        dst_port = _port(fields.get("DPT"), "DPT")
        after = _AFTER_PORTS.get(protocol)
        if after is not None and after not in fields:
            raise ParseError(f"netfilter: line ends before {after}= (cut short)")

    tcp_flags = ""
    if words:
        tcp_flags = _transport_words(words, extra)
    if len(fields) > 1:
        _transport_fields(protocol, fields, extra)
    return src_port, dst_port, tcp_flags


def _transport_words(words: list[str], extra: dict) -> str:
    """Collect TCP flag words as pf letters; note incomplete headers."""
    present = set()
    for word in words:
        if word in _TCP_FLAG_WORDS:
            present.add(word)
        elif word[:1] == "(" and word[-1:] == ")" and len(word) > 2:
            extra["tcp_options_hex"] = word[1:-1]
        elif word in ("INCOMPLETE", "TRUNCATED"):
            extra["incomplete"] = True
    if "AE" in present:
        extra["tcp_ae"] = True
    return "".join(letter for word, letter in _TCP_FLAGS if word in present)


def _transport_fields(protocol: str, fields: dict[str, str], extra: dict) -> None:
    """Copy the transport keys other than ports into ``extra``."""
    get = fields.get
    if protocol == "tcp":
        _put_int(extra, "tcp_seq", get("SEQ"))
        _put_int(extra, "tcp_ack", get("ACK"))
        _put_int(extra, "tcp_window", get("WINDOW"))
        extra["tcp_reserved"] = get("RES")
        _put_int(extra, "tcp_urgent", get("URGP"))
    elif protocol in ("udp", "udplite"):
        _put_int(extra, "udp_length", get("LEN"))
    elif protocol in ("icmp", "icmpv6"):
        _put_int(extra, "icmp_type", get("TYPE"))
        _put_int(extra, "icmp_code", get("CODE"))
        _put_int(extra, "icmp_id", get("ID"))
        _put_int(extra, "icmp_seq", get("SEQ"))
        _put_int(extra, "icmp_mtu", get("MTU"))
        _put_int(extra, "icmp_parameter", get("PARAMETER"))
    _put_int(extra, "uid", get("UID"))
    _put_int(extra, "gid", get("GID"))
    for key, name in _OPTIONAL_TEXT:
        if key in fields:
            extra[name] = fields[key]
    other = fields.keys() - _TRANSPORT_KEYS
    if other:
        _keep_other(fields, other, extra)


def _keep_other(fields: dict[str, str], keys: set[str], extra: dict) -> None:
    """Keep keys this parser does not read (``VID=``, ``MACSRC=``...)."""
    other = extra.setdefault("fields", {})
    for key in sorted(keys):
        other.setdefault(key, fields[key])


def _put_int(extra: dict, name: str, text: str | None) -> None:
    if text is not None:
        extra[name] = int(text) if text.isdigit() and len(text) <= 10 else text


def _port(text: str | None, key: str) -> int:
    if text is None:
        raise ParseError(f"netfilter: {key}= missing")
    if not (text.isdigit() and len(text) <= 5 and int(text) <= 65535):
        raise ParseError(f"netfilter: invalid {key}= value {text!r:.20}")
    return int(text)


def _uint(text: str, key: str) -> int:
    if not (text.isdigit() and len(text) <= 10):
        raise ParseError(f"netfilter: {key}= is not a number ({text!r:.20})")
    return int(text)


def _ipv6_pair(src: str, dst: str) -> tuple[str, str]:
    """Return both addresses compressed (RFC 5952), or raise."""
    src_ip = ipv6(src)
    if src_ip is None:
        raise _bad_address("source", src)
    dst_ip = ipv6(dst)
    if dst_ip is None:
        raise _bad_address("destination", dst)
    return src_ip, dst_ip


def _validate_ipv4(src: str, dst: str) -> None:
    if ipv4(src) is None:
        raise _bad_address("source", src)
    if ipv4(dst) is None:
        raise _bad_address("destination", dst)
    if len(_VALID_IPV4) >= _CACHE_SIZE:
        _VALID_IPV4.clear()
    _VALID_IPV4.add(src)
    _VALID_IPV4.add(dst)


def _bad_address(which: str, text: str) -> ParseError:
    return ParseError(f"netfilter: invalid {which} address {text!r:.60}")


def _no_protocol(body: str) -> str:
    if " ARP " in body or body.startswith("ARP "):
        return "netfilter: ARP packet (no IP header)"
    if "SRC=" not in body:
        return "netfilter: no IP header (SRC= missing)"
    return "netfilter: no PROTO= (line cut short or truncated header)"


def _not_log(msg: str) -> str:
    if "SRC=" in msg and "PROTO=" in msg:
        return "netfilter: no IN= key (second half of a split record?)"
    return f"netfilter: not a packet log line ({msg!r:.40})"
