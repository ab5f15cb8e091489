"""Reader and validator for the RIR statistics exchange format (version 2).

The five Regional Internet Registries publish "delegated" files in this
format, plain and extended. Layout, per the format's own description
published by the registries (version 2.3):

- lines starting with ``#`` are comments; blank lines are ignored;
- the first other line is the header:
  ``version|registry|serial|records|startdate|enddate|UTCoffset``;
- summary lines follow, one per type: ``registry|*|type|*|count|summary``;
- records: ``registry|cc|type|start|value|date|status[|opaque-id[|...]]``.
  For ``ipv4`` the value is a host count (not always a power of two), for
  ``ipv6`` a prefix length, for ``asn`` a count of numbers. Extended files
  add ``available`` and ``reserved`` records, whose country is blank or a
  placeholder.

Plain Python, no Django: the refresh job and the tests call it directly.
Any defect makes the whole file unusable: ``parse_delegated`` raises
``DelegatedFileError`` naming the first defects, and the caller keeps the
data it had.
"""

import hashlib
import re
import socket
from dataclasses import dataclass, field
from datetime import date

REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")
TYPES = ("asn", "ipv4", "ipv6")
COUNTRY_STATUSES = frozenset({"allocated", "assigned"})
STATUSES = COUNTRY_STATUSES | {"available", "reserved"}
# Codes the registries use for "no country"; such ranges are not located.
PLACEHOLDER_CODES = frozenset({"", "ZZ"})
IPV4_LAST = 2**32 - 1
MAX_REPORTED_DEFECTS = 5

MD5_BSD = re.compile(r"MD5\s*\((?P<name>[^)]*)\)\s*=\s*(?P<hex>[0-9A-Fa-f]{32})\b")
MD5_GNU = re.compile(r"^\s*(?P<hex>[0-9A-Fa-f]{32})(?:\s+\*?(?P<name>\S+))?\s*$", re.M)
CC_PATTERN = re.compile(r"[A-Z]{2}")


class DelegatedFileError(ValueError):
    """A delegated file or its checksum that must not be used.

    ``reason`` is a short stable word (``html``, ``checksum``, ``header``,
    ``registry``, ``version``, ``count``, ``summary``, ``record``,
    ``encoding``) for counting and tests; the message explains.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Header:
    version: str
    registry: str
    serial: str
    records: int
    start_date: str
    end_date: str
    utc_offset: str


@dataclass(slots=True)
class DelegatedFile:
    """A validated file: header, counts and the ranges that carry a country.

    ``ranges`` holds ``(ip_version, first, last, country, status, date)``
    tuples; ``first`` and ``last`` are integers in the address family's own
    space (32 bits for IPv4, 128 for IPv6), ``date`` is the record date or
    None when the registry gives none.
    """

    header: Header
    file_date: date
    summary: dict[str, int]
    type_counts: dict[str, int]
    status_counts: dict[str, int] = field(default_factory=dict)
    ranges: list[tuple[int, int, int, str, str, date | None]] = field(
        default_factory=list
    )
    no_country_count: int = 0


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def parse_md5_file(text: str) -> str:
    """Return the lower-case hex digest from a published ``.md5`` file.

    Accepts the BSD layout ``MD5 (name) = hex`` and the GNU layout
    ``hex  name`` (or a bare digest). The name inside is ignored: registries
    publish the dated file's name beside the ``latest`` link.
    """
    match = MD5_BSD.search(text) or MD5_GNU.search(text)
    if match is None:
        raise DelegatedFileError(
            "checksum", f"no MD5 digest in the checksum file: {text[:80]!r}"
        )
    return match.group("hex").lower()


def verify_checksum(data: bytes, md5_text: str) -> str:
    """Return the digest of ``data`` if it equals the published one.

    Raises DelegatedFileError (reason ``checksum``) otherwise.
    """
    expected = parse_md5_file(md5_text)
    actual = md5_hex(data)
    if actual != expected:
        raise DelegatedFileError(
            "checksum",
            f"MD5 mismatch: file is {actual}, published checksum is {expected}",
        )
    return actual


def looks_like_html(data: bytes) -> bool:
    """Tell whether the bytes are a web page (an error page served as 200)."""
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<") or b"<html" in head or b"<!doctype" in head


def parse_delegated(data: bytes, registry: str) -> DelegatedFile:
    """Parse and validate a whole delegated file from ``registry``.

    Checks the header (registry, version 2.x), that the header's record
    count equals the records read, that each type's count equals its
    summary line, and that every record is well formed. Raises
    DelegatedFileError on the first failed check.
    """
    if looks_like_html(data):
        raise DelegatedFileError("html", "an HTML page, not a delegated file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DelegatedFileError(
            "encoding", f"not UTF-8 text at byte {error.start}"
        ) from None

    lines = _content_lines(text)
    header = _read_header(lines, registry)
    parsed = DelegatedFile(
        header=header,
        file_date=_file_date(header),
        summary={},
        type_counts=dict.fromkeys(TYPES, 0),
        status_counts=dict.fromkeys(sorted(STATUSES), 0),
    )
    _read_body(lines, registry, parsed)

    _check_counts(parsed)
    return parsed


def _content_lines(text: str) -> list[tuple[int, str]]:
    lines = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if line and not line.startswith("#"):
            lines.append((number, line))
    return lines


def _read_header(lines: list[tuple[int, str]], registry: str) -> Header:
    if not lines:
        raise DelegatedFileError("header", "the file has no header line")

    number, line = lines[0]
    fields = line.split("|")
    if len(fields) < 7 or not fields[3].isdigit():
        raise DelegatedFileError(
            "header", f"line {number}: not a version header: {line[:80]!r}"
        )

    header = Header(*fields[:7])
    header = Header(
        version=header.version,
        registry=header.registry.lower(),
        serial=header.serial,
        records=int(header.records),
        start_date=header.start_date,
        end_date=header.end_date,
        utc_offset=header.utc_offset,
    )
    if header.version != "2" and not header.version.startswith("2."):
        raise DelegatedFileError(
            "version", f"format version {header.version[:20]!r}, expected 2.x"
        )
    if header.registry != registry:
        raise DelegatedFileError(
            "registry",
            f"header names registry {header.registry[:20]!r}, expected {registry}",
        )
    return header


def _file_date(header: Header) -> date:
    for candidate in (header.serial, header.end_date):
        parsed = _parse_date(candidate)
        if parsed is not None:
            return parsed
    raise DelegatedFileError(
        "header",
        f"neither serial {header.serial[:20]!r} nor end date "
        f"{header.end_date[:20]!r} is a YYYYMMDD date",
    )


def _parse_date(text: str) -> date | None:
    if len(text) != 8 or not text.isdigit() or text == "00000000":
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _read_body(lines: list[tuple[int, str]], registry: str, parsed: DelegatedFile):
    defects: list[str] = []
    defect_count = 0

    for number, line in lines[1:]:
        fields = line.split("|")
        if len(fields) == 6 and fields[5] == "summary":
            problem = _read_summary(fields, registry, parsed)
        else:
            problem = _read_record(fields, registry, parsed)
        if problem is not None:
            defect_count += 1
            if len(defects) < MAX_REPORTED_DEFECTS:
                defects.append(f"line {number}: {problem}: {line[:80]!r}")

    if defect_count:
        raise DelegatedFileError(
            "record",
            f"{defect_count} malformed line(s); " + "; ".join(defects),
        )


def _read_summary(fields: list[str], registry: str, parsed: DelegatedFile):
    if fields[0].lower() != registry or fields[1] != "*" or fields[3] != "*":
        return "summary line of another shape"
    if fields[2] not in TYPES or not fields[4].isdigit():
        return "summary line with an unknown type or count"
    if fields[2] in parsed.summary:
        return "second summary line for the same type"
    parsed.summary[fields[2]] = int(fields[4])
    return None


def _read_record(fields: list[str], registry: str, parsed: DelegatedFile):
    if len(fields) < 7:
        return "record with fewer than 7 fields"
    record_registry, cc, kind, start, value, day, status = fields[:7]
    if record_registry.lower() != registry:
        return "record of another registry"
    if kind not in TYPES:
        return "unknown type"
    if status not in STATUSES:
        return "unknown status"
    cc = cc.upper()
    if cc and not CC_PATTERN.fullmatch(cc):
        return "country code is not two letters"
    if day and day != "00000000" and _parse_date(day) is None:
        return "date is not YYYYMMDD"

    if kind == "asn":
        if not value.isdigit() or not start.isdigit():
            return "ASN start or count is not a number"
    else:
        bounds = _address_bounds(kind, start, value)
        if isinstance(bounds, str):
            return bounds
        if status in COUNTRY_STATUSES:
            if cc in PLACEHOLDER_CODES:
                parsed.no_country_count += 1
            else:
                version = 4 if kind == "ipv4" else 6
                parsed.ranges.append(
                    (version, bounds[0], bounds[1], cc, status, _parse_date(day))
                )

    parsed.type_counts[kind] += 1
    parsed.status_counts[status] += 1
    return None


def _address_bounds(kind: str, start: str, value: str) -> tuple[int, int] | str:
    """Return (first, last) as integers, or the reason the record is bad."""
    if not value.isdigit():
        return "value is not a number"
    amount = int(value)

    if kind == "ipv4":
        try:
            first = int.from_bytes(socket.inet_pton(socket.AF_INET, start), "big")
        except OSError:
            return "not an IPv4 address"
        if amount < 1 or first + amount - 1 > IPV4_LAST:
            return "IPv4 host count out of range"
        return first, first + amount - 1

    try:
        first = int.from_bytes(socket.inet_pton(socket.AF_INET6, start), "big")
    except OSError:
        return "not an IPv6 address"
    if amount > 128:
        return "IPv6 prefix length above 128"
    host_bits = 128 - amount
    if first & ((1 << host_bits) - 1):
        return "IPv6 start has host bits set for its prefix length"
    return first, first | ((1 << host_bits) - 1)


def _check_counts(parsed: DelegatedFile) -> None:
    total = sum(parsed.type_counts.values())
    if total != parsed.header.records:
        raise DelegatedFileError(
            "count",
            f"header announces {parsed.header.records} records, the file has "
            f"{total} (truncated or corrupted)",
        )

    for kind in TYPES:
        announced = parsed.summary.get(kind)
        found = parsed.type_counts[kind]
        if announced is None and found == 0:
            continue
        if announced != found:
            raise DelegatedFileError(
                "summary",
                f"summary line announces {announced} {kind} records, the file "
                f"has {found}",
            )
