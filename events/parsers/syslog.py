"""Split a syslog message into its envelope (PRI, time, host, tag) and MSG.

Accepted, in the order tried (FORMATS.md 2.8): an optional PRI ``<0..191>``;
then a BSD header (RFC 3164 ``Mmm dd hh:mm:ss`` with the deviations of
FORMATS.md 2.3, or an RFC 3339 stamp in its place), an RFC 5424 header
(``1 TIMESTAMP HOST APP PROCID MSGID SD``), or no header at all, in which
case the whole text is MSG and the receive time stands in for the event
time.

Input this module cannot read raises ParseError: an out-of-range PRI, a
PRI followed by ``1 `` and a broken RFC 5424 header, an impossible date.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from events.parsers.timestamps import MONTHS, bsd_to_utc, rfc3339_to_utc
from events.parsers.types import ParseError

# Converted BSD stamps: stamp text -> (zone, UTC time, and the receive
# times for which it holds, see _bsd_time); cleared when full.
_STAMP_CACHE: dict[str, tuple[tzinfo, datetime, datetime, datetime]] = {}
_CACHE_SIZE = 4096
# Well inside half a year, where the year chosen for a stamp cannot change.
_CACHE_SPAN = timedelta(days=120)

_RFC3339 = r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:[Zz]|[+-]\d\d:\d\d)"

# VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID (RFC 5424 section 6).
# A sloppy sender may end the header after MSGID, so the space before SD is
# optional here and a missing SD reads as nil.
# The optional PRI (0-191, no leading zero) is matched here too, saving a
# separate step; an invalid PRI fails this match and is reported later.
_PRI = r"(?:<(0|[1-9]\d?|1[0-8]\d|19[01])>)?"
_RFC5424_RE = re.compile(
    rf"{_PRI}1 (-|{_RFC3339}) (\S{{1,255}}) (\S{{1,48}}) (\S{{1,128}}) (\S{{1,32}})"
    r"(?: |$)"
)

# What follows the seconds or the fraction of an RFC 3339 stamp.
_ZONE_STARTS = frozenset("Zz+-")
# The two halves of a six-digit fraction, "000" to "999", as time: two
# lookups check the digits and are cheaper than building a timedelta.
_MILLISECONDS = {f"{n:03}": timedelta(milliseconds=n) for n in range(1000)}
_MICROSECONDS = {f"{n:03}": timedelta(microseconds=n) for n in range(1000)}
# RFC 5424 headers already read, by their text up to the stamp's whole
# second -> (text after the fraction up to MSG or SD, the whole second in
# UTC, whether the stamp had a six-digit fraction, hostname, app, extra
# without "sd", whether that text ends with a nil SD); see _rfc5424.
# Cleared when full.
_RFC5424_HEADERS: dict[str, tuple[str, datetime, bool, str, str, dict, bool]] = {}

# One or more SD-ELEMENTs with no space between them, then the space before
# MSG or the end; inside a value only '"', '\' and ']' are escaped (RFC 5424
# section 6.3.3). Group 1 is SD.
_SD_RE = re.compile(
    r'((?:\[[^\s="\]]+(?: [^\s="\]]+="[^"\\]*(?:\\.[^"\\]*)*")*\])++)(?: |\Z)'
)

# "Mmm dd hh:mm:ss" with the day space- or zero-padded or not padded at all,
# and a year either before the clock (network gear) or after it. Group 1 is
# the whole stamp, the key of the stamp cache.
_BSD_STAMP = (
    r"(([A-Z][a-z][a-z]) {1,2}(\d\d?) (?:(\d{4}) )?(\d\d):(\d\d):(\d\d)"
    r"(?: (\d{4})(?= ))?)"
)
_BSD_RE = re.compile(rf"{_BSD_STAMP}(?: +|$)")

# A TAG is "name:", "name[pid]:" or "name[pid]" followed by a space
# (OPNsense 23.x). The name holds no ':' so that an IPv6 hostname such as
# "2001:db8::" is never mistaken for a tag.
_TAG = r"([^\s\[\]:,]{1,48})(?:\[(\d*)\]:?|:)(?: +|$)"
_TAG_RE = re.compile(_TAG)

# The common BSD shapes in one match: stamp, then TAG alone or HOSTNAME and
# TAG. The lazy ``??`` tries "no hostname" first, which is the heuristic of
# FORMATS.md 2.3: a first word that looks like a tag is the tag.
_BSD_FAST_RE = re.compile(rf"{_PRI}{_BSD_STAMP} +(?:([^\s\[]\S*) +)??{_TAG}")
# Headers already read, by their text up to the first ": ", of two kinds:
# the common BSD shape ("<PRI>stamp [host ]tag[pid]: ") read by
# _BSD_FAST_RE -> (zone, earliest and latest receive time it holds for,
# then the envelope's time, hostname, app and extra); and text after a PRI
# that starts no header (YAMAHA RTX) -> (None, PRI value, where MSG starts).
# A sender repeats its header for every line of a second, so most lines
# are read with one dictionary lookup. Cleared when full.
_HEADER_CACHE: dict[str, tuple] = {}
# The tag's colon of such a header lies within this many characters.
_HEADER_SPAN = 128

# PRI text to value: a lookup instead of int() for every message.
_PRI_VALUES = {str(value): value for value in range(192)}
_BSD_ISO_RE = re.compile(rf"({_RFC3339})(?: +|$)")

# What follows a nil SD: the space before MSG, or the end.
_NIL_SD_ENDS = (" ", "")
# First characters of MSG that _clean_msg removes.
_MSG_CLEANUP = (" ", "\ufeff")

# UniFi puts "facility.severity" between HOSTNAME and TAG.
_FACILITY_WORD_RE = re.compile(r"[a-z0-9]+\.[a-z]+ +")


@dataclass(slots=True)
class Envelope:
    """What the syslog header said, plus the MSG it wrapped.

    ``occurred_at`` is aware UTC; it is ``received_at`` when the message
    had no timestamp. ``time_inferred`` is True unless the header carried a
    full date with a UTC offset. ``app`` is "" when there was no tag.
    ``extra`` is the start of the event's extra dict: "pri" always (None
    without PRI), and "app", "pid", "msgid", "sd" only when present.
    ``tz`` is the sender's zone, for payload parsers that read zone-less
    times inside MSG (YAMAHA RTX).
    """

    occurred_at: datetime
    time_inferred: bool
    hostname: str
    app: str
    msg: str
    extra: dict
    tz: tzinfo = UTC


def parse_envelope(text: str, received_at: datetime, tz: tzinfo) -> Envelope:
    """Parse the header of one decoded, trailer-stripped syslog message.

    ``received_at`` must be aware; ``tz`` is the sender's zone, applied to
    BSD stamps and kept in the envelope. Leading spaces and a UTF-8 BOM are
    removed from MSG. An empty MSG is returned as "", not rejected.
    """
    # "<PRI>1 " can only start an RFC 5424 header. One search finds a PRI's
    # end followed by "1 "; _rfc5424 reads the header only if that end is
    # the PRI's (its pattern and its cache keys start with a whole PRI).
    if text[:1] == "<":
        version = text.find(">1 ", 1, 7) + 1
        if version > 0:
            envelope = _rfc5424(text, version, received_at, tz)
            if envelope is not None:
                return envelope
            if ">" not in text[1 : version - 1]:
                _read_pri(text)  # An invalid PRI is the error to report.
                raise ParseError("invalid RFC 5424 header")

    # A header read before is found with one lookup: the branches below that
    # keep one are the only ones a text starting with it can take, and
    # neither keeps a text that starts "<PRI>1 ".
    cut = text.find(": ", 0, _HEADER_SPAN) + 2
    if cut > 1:
        cached = _HEADER_CACHE.get(text[:cut])
        if cached is not None and cached[0] is None:
            msg = text[cached[2] :]
            return Envelope(received_at, True, "", "", msg, {"pri": cached[1]}, tz)
        if (
            cached is not None
            and cached[0] is tz
            and cached[1] < received_at < cached[2]
            and text[cut : cut + 1] not in _MSG_CLEANUP
        ):
            return Envelope(
                cached[3],
                True,
                cached[4],
                cached[5],
                text[cut:],
                dict(cached[6]),
                tz,
            )

    # Where the header starts after a PRI; 0 without one (or with a PRI
    # missing its ">", which the patterns below then fail to match).
    start = text.find(">", 1, 5) + 1 if text[:1] == "<" else 0

    # Every BSD stamp starts with a month name right after the PRI, and an
    # RFC 3339 stamp or RFC 5424 version with a digit; anything else after
    # a valid PRI (or at the start) is MSG, as YAMAHA RTX sends it.
    first = text[start : start + 3]
    if first in MONTHS:
        match = _BSD_FAST_RE.match(text)
        if match is not None and match[3] in MONTHS:
            envelope = _bsd_fast(text, match, received_at, tz)
            if match.end() == cut and text[cut : cut + 1] not in _MSG_CLEANUP:
                _remember_header(text[:cut], tz, envelope)
            return envelope
    elif not first[:1].isdigit():
        pri = _PRI_VALUES.get(text[1 : start - 1]) if start else None
        if pri is not None or text[:1] != "<":
            msg = text[start:]
            if msg[:1] in _MSG_CLEANUP:
                msg = _clean_msg(msg)
            elif cut > 1:
                # What decided this branch lies within text[:cut]: a month
                # name would need three letters where a ":" is.
                _remember_no_header(text[:cut], pri, start)
            return Envelope(received_at, True, "", "", msg, {"pri": pri}, tz)

    # With a PRI, RFC 5424 was tried above; without one it needs "1 " first.
    if text[:2] == "1 ":
        envelope = _rfc5424(text, 0, received_at, tz)
        if envelope is not None:
            return envelope

    pri = None
    pos = 0
    if text[:1] == "<":
        pri, pos = _read_pri(text)
        if text.startswith("1 ", pos):
            raise ParseError("invalid RFC 5424 header")
    return _other_header(text, pos, received_at, tz, {"pri": pri})


def _bsd_fast(
    text: str, match: re.Match, received_at: datetime, tz: tzinfo
) -> Envelope:
    pri, hostname, app, pid = match.group(1, 10, 11, 12)
    extra = {"pri": None if pri is None else _PRI_VALUES[pri], "app": app}
    if pid:
        extra["pid"] = pid
    msg = text[match.end() :]
    if msg[:1] in _MSG_CLEANUP:
        msg = _clean_msg(msg)

    occurred_at = _bsd_time(match, received_at, tz, 1)
    return Envelope(occurred_at, True, hostname or "", app, msg, extra, tz)


def _remember_header(header: str, tz: tzinfo, envelope: Envelope) -> None:
    """Keep what ``header`` said for the next line that starts with it.

    Only a header that ends exactly where the fast pattern's match ended,
    followed by a character that is not cleaned off MSG, is kept: any text
    that starts with it is then read by the pattern in the same way, as
    the pattern looks no further than the space after the tag.
    """
    occurred_at = envelope.occurred_at
    earliest, latest = _cache_span(occurred_at)
    if len(_HEADER_CACHE) >= _CACHE_SIZE:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[header] = (
        tz,
        earliest,
        latest,
        occurred_at,
        envelope.hostname,
        envelope.app,
        dict(envelope.extra),
    )


def _remember_no_header(header: str, pri: int | None, start: int) -> None:
    """Keep that a text starting with ``header`` has no header.

    Its MSG starts at ``start``, after the PRI ``pri`` (None without one).
    """
    if len(_HEADER_CACHE) >= _CACHE_SIZE:
        _HEADER_CACHE.clear()
    _HEADER_CACHE[header] = (None, pri, start)


def _read_pri(text: str) -> tuple[int, int]:
    """Return the PRI value of ``<N>...`` and the offset after ``>``."""
    end = text.find(">", 1, 5)
    digits = text[1:end]
    if end < 0 or not (digits.isascii() and digits.isdigit()):
        raise ParseError(f"invalid PRI {text[:5]!r}")

    pri = int(digits)
    if pri > 191 or (digits[0] == "0" and len(digits) > 1):
        raise ParseError(f"invalid PRI <{digits}>")
    return pri, end + 1


def _rfc5424(
    text: str, start: int, received_at: datetime, tz: tzinfo
) -> Envelope | None:
    """Read an RFC 5424 header; return None when ``text`` has none.

    ``start`` is where VERSION is, after the PRI (0 without one). A sender
    repeats PRI, HOSTNAME, APP-NAME, PROCID and MSGID, usually a nil SD,
    and the same stamp up to its fraction for every line of a second. So
    a header read by the pattern is kept by its text up to the stamp's
    whole second, with the text after the fraction up to MSG (or SD). A
    line that starts with that key, has a fraction of as many digits and
    then the same text, matches the pattern in the same way, only the
    fraction differs: it is read with lookups. Other lines, and stamps
    with no fraction or one of other than six digits, go through the
    pattern.
    """
    second_end = start + 21  # "1 " and "YYYY-MM-DDTHH:MM:SS"
    known = _RFC5424_HEADERS.get(text[:second_end])
    if known is not None:
        tail, occurred_at, fraction, hostname, app, extra, nil_sd = known
        pos = second_end
        if fraction:
            milliseconds = _MILLISECONDS.get(text[pos + 1 : pos + 4])
            microseconds = _MICROSECONDS.get(text[pos + 4 : pos + 7])
            if milliseconds is None or microseconds is None or text[pos] != ".":
                pos = -1
            else:
                occurred_at = occurred_at + milliseconds + microseconds
                pos += 7
        if pos > 0 and text.startswith(tail, pos):
            extra = dict(extra)
            pos += len(tail)
            if nil_sd:
                msg = text[pos:]
                if msg[:1] in _MSG_CLEANUP:
                    msg = _clean_msg(msg)
            else:
                msg = _structured_data(text, pos, extra)
            return Envelope(occurred_at, False, hostname, app, msg, extra, tz)

    match = _RFC5424_RE.match(text)
    if match is None:
        return None
    pri, stamp, hostname, app, procid, msgid = match.groups()
    extra = {"pri": None if pri is None else int(pri)}
    if stamp == "-":
        occurred_at, inferred = received_at, True
    else:
        occurred_at, inferred = rfc3339_to_utc(stamp), False
    hostname = "" if hostname == "-" else hostname
    app = "" if app == "-" else app
    if app:
        extra["app"] = app
    if procid != "-":
        extra["pid"] = procid
    if msgid != "-":
        extra["msgid"] = msgid

    end = match.end()
    if not inferred and text[end - 1 : end] == " ":
        _remember_rfc5424(text, second_end, end, occurred_at, hostname, app, extra)
    msg = _structured_data(text, end, extra)
    return Envelope(occurred_at, inferred, hostname, app, msg, extra, tz)


def _remember_rfc5424(
    text: str,
    second_end: int,
    end: int,
    occurred_at: datetime,
    hostname: str,
    app: str,
    extra: dict,
) -> None:
    """Keep the header the pattern read in ``text`` up to ``end``.

    ``end`` is after the space that follows MSGID; a nil SD and its space
    after it are kept as part of the header. Nothing is kept for a stamp
    whose fraction has other than six digits.
    """
    pos = second_end
    fraction = text[pos : pos + 1] == "."
    if fraction:
        pos += 7
        if not (text[second_end + 1 : pos].isdigit() and text[pos] in _ZONE_STARTS):
            return
        occurred_at = occurred_at.replace(microsecond=0)
    nil_sd = text.startswith("- ", end)
    if len(_RFC5424_HEADERS) >= _CACHE_SIZE:
        _RFC5424_HEADERS.clear()
    _RFC5424_HEADERS[text[:second_end]] = (
        text[pos : end + 2 if nil_sd else end],
        occurred_at,
        fraction,
        hostname,
        app,
        dict(extra),
        nil_sd,
    )


def _structured_data(text: str, pos: int, extra: dict) -> str:
    """Move SD, at ``pos`` after MSGID's space, to ``extra``; return MSG."""
    first = text[pos : pos + 1]
    if first == "-":
        if text[pos + 1 : pos + 2] in _NIL_SD_ENDS:
            pos += 2
    elif first == "[":
        sd = _SD_RE.match(text, pos)
        # A bracket that is not a well-formed SD (``[UFW BLOCK] IN=...``)
        # means the sender left SD out: read SD as nil, the rest as MSG.
        if sd is not None:
            extra["sd"] = sd[1]
            pos = sd.end()
    msg = text[pos:]
    if msg[:1] in _MSG_CLEANUP:
        msg = _clean_msg(msg)
    return msg


def _other_header(
    text: str, pos: int, received_at: datetime, tz: tzinfo, extra: dict
) -> Envelope:
    """Handle the BSD shapes the fast pattern misses, and header-less text.

    Each pattern is tried only where its first character is: a month name
    for a BSD stamp, a digit for an RFC 3339 one.
    """
    if text[pos : pos + 3] in MONTHS:
        match = _BSD_RE.match(text, pos)
        if match is not None and match[2] in MONTHS:
            occurred_at = _bsd_time(match, received_at, tz)
            return _host_and_tag(text, match.end(), occurred_at, True, extra, tz)

    match = _BSD_ISO_RE.match(text, pos) if text[pos : pos + 1].isdigit() else None
    if match is not None:
        occurred_at = rfc3339_to_utc(match[1])
        return _host_and_tag(text, match.end(), occurred_at, False, extra, tz)

    return Envelope(received_at, True, "", "", _clean_msg(text[pos:]), extra, tz)


def _bsd_time(
    match: re.Match, received_at: datetime, tz: tzinfo, shift: int = 0
) -> datetime:
    """Convert the matched BSD stamp, reusing the result for repeated stamps.

    ``shift`` is the number of groups before the stamp's groups. A burst of
    lines shares one stamp; a cached time is reused only for the same zone
    and while it is well within half a year of ``received_at``.
    """
    stamp = match[1 + shift]
    cached = _STAMP_CACHE.get(stamp)
    if cached is not None and cached[0] is tz and cached[2] < received_at < cached[3]:
        return cached[1]

    month, day, year, hour, minute, second, year_after = match.groups()[
        1 + shift : 8 + shift
    ]
    year = year or year_after
    occurred_at = bsd_to_utc(
        MONTHS[month],
        int(day),
        (int(hour), int(minute), int(second)),
        None if year is None else int(year),
        received_at,
        tz,
    )
    if len(_STAMP_CACHE) >= _CACHE_SIZE:
        _STAMP_CACHE.clear()
    _STAMP_CACHE[stamp] = (tz, occurred_at, *_cache_span(occurred_at))
    return occurred_at


def _cache_span(occurred_at: datetime) -> tuple[datetime, datetime]:
    """Return the receive times for which a cached stamp's year holds.

    Clipped to the range of datetime, so that a stamp in year 1 or 9999
    is cached like any other.
    """
    try:
        earliest = occurred_at - _CACHE_SPAN
    except OverflowError:
        earliest = datetime.min.replace(tzinfo=UTC)
    try:
        latest = occurred_at + _CACHE_SPAN
    except OverflowError:
        latest = datetime.max.replace(tzinfo=UTC)
    return earliest, latest


def _host_and_tag(
    text: str,
    pos: int,
    occurred_at: datetime,
    inferred: bool,
    extra: dict,
    tz: tzinfo,
) -> Envelope:
    """Apply the host/tag heuristic of FORMATS.md 2.3 to what follows the time.

    The first word is the TAG when it looks like one (no hostname, as pfSense
    sends); a first word starting with ``[`` is content (no host, no tag);
    otherwise it is HOSTNAME, optionally followed by a TAG, which UniFi
    separates from it with a ``facility.severity`` word.
    """
    hostname = ""
    tag = _TAG_RE.match(text, pos)
    if tag is None and not text.startswith("[", pos):
        end = text.find(" ", pos)
        if end < 0:
            end = len(text)
        hostname = text[pos:end]
        pos = end
        while text.startswith(" ", pos):
            pos += 1
        word = _FACILITY_WORD_RE.match(text, pos)
        tag = _TAG_RE.match(text, pos if word is None else word.end())

    app = ""
    if tag is not None:
        app = extra["app"] = tag[1]
        if tag[2]:
            extra["pid"] = tag[2]
        pos = tag.end()

    msg = _clean_msg(text[pos:])
    return Envelope(occurred_at, inferred, hostname, app, msg, extra, tz)


def describe_tag(app: str) -> str:
    """Name a message's syslog tag for a failure reason: "app 'x'"."""
    return f"app {app!r}" if app else "no syslog tag"


def _clean_msg(msg: str) -> str:
    """Drop the leading blanks relays leave and a leading UTF-8 BOM."""
    if msg[:1] == " ":
        msg = msg.lstrip(" ")
    if msg[:1] == "\ufeff":
        msg = msg[1:]
    return msg
