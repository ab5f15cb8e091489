"""Turn one received syslog message into a ParsedEvent or a ParseFailure.

Plain Python with no Django import, so that the listener, a file import
command and the tests can all call it. A payload format registers a sniff
function (does this envelope look like mine?) and a parse function; see
``register_format``. Currently registered, in the order "auto" sniffs them
(FORMATS.md 2.8): ``pfsense`` and ``opnsense``, both served by the pf
family parser in ``filterlog``; ``netfilter`` (``netfilter``); and
``yamaha-rtx`` (``rtx``).
"""

import logging
from collections.abc import Callable
from datetime import datetime, tzinfo

from events.parsers import filterlog, netfilter, rtx
from events.parsers.syslog import Envelope, describe_tag, parse_envelope
from events.parsers.types import ParsedEvent, ParseError, ParseFailure

__all__ = [
    "ParsedEvent",
    "ParseFailure",
    "parse_message",
    "register_format",
]

Sniff = Callable[[Envelope], bool]
Parse = Callable[[Envelope], ParsedEvent]

# The last bytes of transport trailers: NUL, CR, LF.
_TRAILERS = frozenset(b"\x00\r\n")

_FORMATS: dict[str, tuple[Sniff, Parse]] = {}
# Distinct (sniff, parse) pairs in registration order, tried by "auto".
_SNIFFERS: list[tuple[Sniff, Parse]] = []
# Syslog tag -> the parse function of the format that owns it.
_TAGGED: dict[str, Parse] = {}

logger = logging.getLogger(__name__)


def register_format(
    name: str, sniff: Sniff, parse: Parse, tags: tuple[str, ...] = ()
) -> None:
    """Make ``name`` a valid ``log_format`` and let "auto" try ``sniff``.

    ``parse`` receives the envelope and raises ParseError for input it
    rejects. Formats registered first are sniffed first; a pair already
    registered under another name is sniffed only once. A message whose
    syslog tag (APP-NAME) is one of ``tags`` goes to ``parse`` without
    sniffing: the tag names the program that wrote it.
    """
    _FORMATS[name] = (sniff, parse)
    if (sniff, parse) not in _SNIFFERS:
        _SNIFFERS.append((sniff, parse))
    for tag in tags:
        _TAGGED[tag] = parse


register_format("pfsense", filterlog.sniff, filterlog.parse, ("filterlog",))
register_format("opnsense", filterlog.sniff, filterlog.parse)
register_format("netfilter", netfilter.sniff, netfilter.parse)
register_format("yamaha-rtx", rtx.sniff, rtx.parse)


def parse_message(
    raw: bytes, *, received_at: datetime, tz: tzinfo, log_format: str = "auto"
) -> ParsedEvent | ParseFailure:
    """Parse exactly one message (a UDP datagram or a deframed TCP frame).

    ``received_at`` is the aware UTC receipt time; it dates messages without
    a timestamp and picks the year of BSD stamps. ``tz`` is the device's
    zone, applied to zone-less stamps. ``log_format`` is "auto" or a
    registered name; a named format is used even when sniffing would say
    otherwise. Never raises: anything not parsed, including a parser bug,
    comes back as a ParseFailure whose reason says what failed.
    """
    chosen = None
    if log_format != "auto":
        chosen = _FORMATS.get(log_format)
        if chosen is None:
            return ParseFailure(f"unknown log format {log_format!r:.40}")

    # Transport trailers (FORMATS.md 2.7): trailing NULs, then CR/LF.
    if raw and raw[-1] in _TRAILERS:
        raw = raw.rstrip(b"\x00").rstrip(b"\r\n")
    if not raw:
        return ParseFailure("empty message")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        text = raw.decode("utf-8", "replace")

    envelope = None
    try:
        envelope = parse_envelope(text, received_at, tz)
        if not envelope.msg:
            return ParseFailure("empty message", envelope.hostname)
        if chosen is not None:
            return chosen[1](envelope)
        tagged = _TAGGED.get(envelope.app)
        if tagged is not None:
            return tagged(envelope)
        for sniff, parse in _SNIFFERS:
            if sniff(envelope):
                return parse(envelope)
        return _not_filter_log(envelope)
    except ParseError as error:
        return ParseFailure(str(error), envelope.hostname if envelope else "")
    except Exception as error:
        # A parser bug must not stop the listener; the reason names it, and
        # the traceback is there for whoever turns on DEBUG (never higher:
        # the input is attacker-controlled and could flood the log).
        logger.debug("parser error raw=%r", raw[:200], exc_info=True)
        reason = f"internal parser error: {error!r:.120}"
        return ParseFailure(reason, envelope.hostname if envelope else "")


def _not_filter_log(envelope: Envelope) -> ParseFailure:
    reason = f"not a filter log message ({describe_tag(envelope.app)})"
    return ParseFailure(reason, envelope.hostname)
