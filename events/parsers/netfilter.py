"""Parse Linux netfilter ``LOG`` lines (iptables, ip6tables, nftables ``log``).

The kernel writes ``PREFIX IN=.. OUT=.. [MAC=..]``, the IPv4 or IPv6 header
as ``KEY=value`` pairs and flag words, ``PROTO=`` and the transport header
(``net/netfilter/nf_log_syslog.c``; FORMATS.md 6). A relay (rsyslog,
syslog-ng, journald) adds the syslog envelope; the message may start with
the kernel's ``[uptime]`` stamp, and the user's log prefix is glued to
``IN=`` with whatever separator the user chose: ufw ``[UFW BLOCK] ``,
firewalld ``FINAL_REJECT: ``, Shorewall ``Shorewall:net2fw:DROP:``, EdgeOS
``[WAN_IN-2000-D]`` with none.

The action comes from the prefix: REJECT gives reject; DROP, BLOCK, DENY
give block; ACCEPT, ALLOW, PASS give pass; an EdgeOS ``-D``/``-A``/``-R``
suffix likewise; anything else, ufw's ``[UFW AUDIT]`` included, leaves it
empty, so audit lines never count as blocks. The rule is the prefix
trimmed of blanks and one trailing ``:``.

Keys the kernel writes twice keep their first value for the packet (IP
``LEN=`` and ``ID=``); the second (UDP length, ICMP echo id) goes to
``extra``. The packet an ICMP error quotes (``[SRC=.. ]``) is kept as text
in ``extra["icmp_inner"]``, never read as the packet's own fields. IPv6
addresses, written fully expanded, are stored compressed. Names in
``extra``: see ``_common`` and ``netfilter_tokens``.

Lines without ``IN=``, ``SRC=``, ``DST=`` or ``PROTO=`` raise ParseError:
ARP, the halves of a record a gateway split in two, other kernel messages.
So does a TCP or UDP line that ends before the key the kernel always
writes after the ports, so a port cut in transit is never stored.
"""

import re

from events.parsers.netfilter_tokens import (
    PROTOCOL_NAMES,
    VALID_IPV4,
    addresses,
    read_packet,
    tcp_letters,
)
from events.parsers.numbers import U16
from events.parsers.syslog import Envelope
from events.parsers.types import ParsedEvent, ParseError

_MAX_LINE = 4096
# The width of the rule column; a longer prefix (nftables allows 127
# characters) is cut there and kept whole in extra["prefix"].
_RULE_WIDTH = 64

# What follows "[" in a printk stamp: padding or the first digit.
_STAMP_STARTS = frozenset(" 0123456789")

_BLOCK_WORDS = ("DROP", "BLOCK", "DENY", "DENIED")
_PASS_WORDS = ("ACCEPT", "ALLOW", "PASS")
_EDGEOS_ACTIONS = {"D": "block", "A": "pass", "R": "reject"}

# The layout nearly every line has, in the kernel's fixed order: IPv4 or
# IPv6 without options, fragment offset or extension headers, then TCP,
# UDP or ICMP without optional keys (UID, MARK, a quoted packet...). Every
# group ends at a literal key or space, so matching is linear. A line this
# does not take goes to netfilter_tokens, which reads any layout and gives
# the same record. The repeats are possessive (``*+``, ``{1,5}+``): what
# follows each is a character it cannot match, so giving back characters
# could never help, and the engine then keeps no state to try.
_COMMON_RE = re.compile(
    r"IN=(\S*+) OUT=(\S*+) (?:MAC=(\S*+) )?SRC=(\S++) DST=(\S++) LEN=(\d{1,5}+) "
    r"(?:TOS=(0x[0-9A-F]{2}) PREC=(0x[0-9A-F]{2}) TTL=(\d{1,3}+) ID=(\d{1,5}+) "
    r"((?:CE )?(?:DF )?(?:MF )?)"
    r"|TC=(\d{1,3}+) HOPLIMIT=(\d{1,3}+) FLOWLBL=(\d{1,7}+) )PROTO=(?:"
    r"(TCP) SPT=(\d{1,5}+) DPT=(\d{1,5}+) (?:SEQ=(\d{1,10}+) ACK=(\d{1,10}+) )?"
    r"WINDOW=(\d{1,5}+) RES=(0x[0-9a-f]{2}) ((?>[A-Z]{2,3} )*+)URGP=(\d{1,5}+)"
    r"|(UDP|UDPLITE) SPT=(\d{1,5}+) DPT=(\d{1,5}+) LEN=(\d{1,5}+)"
    r"|(ICMP|ICMPv6) TYPE=(\d{1,3}+) CODE=(\d{1,3}+)"
    r"(?: ID=(\d{1,5}+) SEQ=(\d{1,5}+))?"
    r") ?"
)

# Prefix text -> (rule, action, whole prefix when cut); cleared when full.
_PREFIX_CACHE: dict[str, tuple[str, str, str]] = {}
_CACHE_SIZE = 4096


def sniff(envelope: Envelope) -> bool:
    """Say whether a message is a kernel line or looks like a LOG line."""
    msg = envelope.msg
    return envelope.app == "kernel" or ("IN=" in msg and " SRC=" in msg)


def parse(envelope: Envelope) -> ParsedEvent:
    """Parse one netfilter LOG line into an event, extending ``extra``.

    The event is dated by the envelope: the kernel's uptime stamp is no
    wall clock and is only kept, in seconds, in ``extra["uptime"]``. Raise
    ParseError for a line that is not a complete IPv4 or IPv6 packet log.
    """
    msg = envelope.msg
    if len(msg) > _MAX_LINE:
        raise ParseError(f"netfilter: line too long ({len(msg)} characters)")
    extra = envelope.extra
    if msg[:1] == "[" and msg[1:2] in _STAMP_STARTS:
        msg = _strip_uptime(msg, extra)
    start = msg.find("IN=")
    if start > 0 and msg[start - 1].isalnum():
        start = _find_in(msg)
    if start < 0:
        raise ParseError(_not_log(msg))

    # The prefix is the user's free text; the kernel writes the rest ASCII.
    prefix = _PREFIX_CACHE.get(msg[:start])
    if prefix is None:
        prefix = _read_prefix(msg[:start])
    rule, action, whole = prefix
    if whole:
        extra["prefix"] = whole

    # str.isascii costs nothing: the string knows whether it is ASCII.
    if not msg.isascii() and not msg[start:].isascii():
        raise ParseError("netfilter: non-ASCII text after IN=")
    match = _COMMON_RE.fullmatch(msg, start)
    if match is not None:
        event = _common(match, envelope, rule, action)
        if event is not None:
            return event

    interface, way, version, protocol, src, dst, sport, dport, flags, length = (
        read_packet(msg[start:], extra)
    )
    return ParsedEvent(
        envelope.occurred_at,
        action,
        way,
        interface,
        version,
        protocol,
        src,
        dst,
        sport,
        dport,
        flags,
        length,
        rule,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _strip_uptime(msg: str, extra: dict) -> str:
    """Remove a leading ``[ 1234.567890]`` printk stamp, keeping its value."""
    end = msg.find("]", 1, 32)
    if end < 0:
        return msg
    stamp = msg[1:end].strip(" ")
    whole, dot, fraction = stamp.partition(".")
    if not (stamp.isascii() and whole.isdigit() and dot and fraction.isdigit()):
        return msg
    extra["uptime"] = float(stamp)
    return msg[end + 1 :].lstrip(" ")


def _find_in(msg: str) -> int:
    """Return where ``IN=`` starts, after the prefix glued before it.

    That is the first ``IN=`` at the start or after a character that ends
    a word (space, ``]``, ``:``...), or right before `` OUT=`` when the
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


def _read_prefix(text: str) -> tuple[str, str, str]:
    """Return rule, action and (when cut for the rule) the whole prefix.

    The result is cached: a host logs with a handful of prefixes.
    """
    rule = text.strip()
    if rule[-1:] == ":":
        rule = rule[:-1].rstrip()
    action = _action(rule)
    result = (rule, action, "")
    if len(rule) > _RULE_WIDTH:
        result = (rule[:_RULE_WIDTH], action, rule)

    if len(_PREFIX_CACHE) >= _CACHE_SIZE:
        _PREFIX_CACHE.clear()
    _PREFIX_CACHE[text] = result
    return result


def _action(prefix: str) -> str:
    """Read the verdict a prefix names (FORMATS.md 1 and 7.4)."""
    upper = prefix.upper()
    if "AUDIT" in upper:
        return ""
    if upper[:1] == "[" and upper[-1:] == "]":
        # EdgeOS and VyOS write [RULESET-NUMBER-LETTER].
        parts = upper[1:-1].rsplit("-", 2)
        if len(parts) == 3 and (parts[1].isdigit() or parts[1] == "DEFAULT"):
            action = _EDGEOS_ACTIONS.get(parts[2])
            if action is not None:
                return action
    if "REJECT" in upper:
        return "reject"
    if any(word in upper for word in _BLOCK_WORDS):
        return "block"
    if any(word in upper for word in _PASS_WORDS):
        return "pass"
    return ""


def _common(
    match: re.Match, envelope: Envelope, rule: str, action: str
) -> ParsedEvent | None:
    """Build the event from a ``_COMMON_RE`` match, filling ``extra``.

    Record and ``extra`` are what ``read_packet`` gives for the same line
    (the tests hold the two to that), only sooner. Return None, with
    ``extra`` untouched, for a 16-bit number that ``U16`` does not hold
    (above 65535, or with leading zeros): ``read_packet`` reads or names it.
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

    # Every number is read before ``extra`` is touched, so that a None
    # return leaves it as it was.
    u16 = U16
    try:
        length_value = u16[length]
        if tos is not None:
            ip_numbers = (u16[ttl], u16[ident])
        else:
            ip_numbers = (u16[traffic_class], u16[hops])
        if tcp is not None:
            src_port = u16[tcp_sport]
            dst_port = u16[tcp_dport]
            transport = (u16[window], u16[urgent])
        elif udp is not None:
            src_port = u16[udp_sport]
            dst_port = u16[udp_dport]
            transport = (u16[udp_length],)
        else:
            src_port = dst_port = None
            transport = (u16[icmp_type], u16[icmp_code])
            if icmp_id is not None:
                transport += (u16[icmp_id], u16[icmp_seq])
    except KeyError:
        return None

    if src in VALID_IPV4 and dst in VALID_IPV4:
        version = 4
    else:
        version, src, dst = addresses(src, dst)
    extra = envelope.extra
    if tos is not None:
        extra["tos"] = tos
        extra["prec"] = prec
        extra["ttl"], extra["ip_id"] = ip_numbers
        if ip_flags:
            extra["ip_flags"] = ip_flags[:-1]
    else:
        extra["traffic_class"], extra["hop_limit"] = ip_numbers
        extra["flow_label"] = int(flow)
    if mac:
        extra["mac"] = mac
    if in_name:
        way = "in"
        if out_name:
            extra["out_interface"] = out_name
            way = ""
    else:
        way = "out" if out_name else ""

    tcp_flags = ""
    if tcp is not None:
        protocol = "tcp"
        if seq is not None:
            extra["tcp_seq"] = int(seq)
            extra["tcp_ack"] = int(ack)
        extra["tcp_window"] = transport[0]
        extra["tcp_reserved"] = reserved
        extra["tcp_urgent"] = transport[1]
        if flag_words:
            tcp_flags = tcp_letters(flag_words)
            if flag_words[:3] == "AE ":
                extra["tcp_ae"] = True
    elif udp is not None:
        protocol = PROTOCOL_NAMES[udp]
        extra["udp_length"] = transport[0]
    else:
        protocol = PROTOCOL_NAMES[icmp]
        extra["icmp_type"], extra["icmp_code"] = transport[:2]
        if icmp_id is not None:
            extra["icmp_id"], extra["icmp_seq"] = transport[2:]

    return ParsedEvent(
        envelope.occurred_at,
        action,
        way,
        in_name or out_name,
        version,
        protocol,
        src,
        dst,
        src_port,
        dst_port,
        tcp_flags,
        length_value,
        rule,
        envelope.hostname,
        envelope.time_inferred,
        extra,
    )


def _not_log(msg: str) -> str:
    if "PROTO=" in msg:
        return "netfilter: no IN= key (second half of a split record?)"
    return f"netfilter: not a packet log line ({msg!r:.40})"
