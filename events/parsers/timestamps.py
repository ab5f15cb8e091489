"""Turn syslog header timestamps into aware UTC datetimes.

Two shapes exist: RFC 3339 (RFC 5424 header, or a relay's BSD header), which
carries its own offset, and the BSD ``Mmm dd hh:mm:ss`` stamp of RFC 3164,
which carries neither year nor zone. The BSD stamp is parsed by hand because
``strptime`` costs several microseconds per call.
"""

from datetime import UTC, datetime, timedelta, tzinfo

from events.parsers.types import ParseError

MONTHS = {
    "Jan": 1,
    "Feb": 2,
    "Mar": 3,
    "Apr": 4,
    "May": 5,
    "Jun": 6,
    "Jul": 7,
    "Aug": 8,
    "Sep": 9,
    "Oct": 10,
    "Nov": 11,
    "Dec": 12,
}

# Half a year: a candidate further than this from the receive time is
# re-checked against the neighbouring years.
_HALF_YEAR = timedelta(days=183)


def rfc3339_to_utc(text: str) -> datetime:
    """Convert an RFC 3339 date-time (already shape-checked) to UTC.

    The fraction is kept to microseconds (extra digits are truncated). A leap
    second ``:60`` is read as ``:59`` because datetime cannot hold it. Raise
    ParseError for values out of range, such as month 13, and for times
    whose UTC value falls outside years 1 to 9999.
    """
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        pass
    except OverflowError:
        raise ParseError(_out_of_range(text)) from None

    # The rare spellings: lower-case "t"/"z", a leap second.
    fixed = text.upper()
    if fixed[17:19] == "60":
        fixed = fixed[:17] + "59" + fixed[19:]
    try:
        return datetime.fromisoformat(fixed).astimezone(UTC)
    except ValueError:
        raise ParseError(f"invalid timestamp {text!r:.40}") from None
    except OverflowError:
        raise ParseError(_out_of_range(text)) from None


def bsd_to_utc(
    month: int,
    day: int,
    clock: tuple[int, int, int],
    year: int | None,
    received_at: datetime,
    tz: tzinfo,
) -> datetime:
    """Convert a BSD stamp, read as wall-clock time in ``tz``, to UTC.

    Without a ``year``, pick the year that puts the stamp closest to
    ``received_at`` (so ``Dec 31 23:59:58`` received just after New Year
    lands in the old year). Feb 29 only matches a leap year within a year of
    ``received_at``; otherwise, like any impossible date, it raises
    ParseError. Local times inside a DST gap or fold resolve with fold=0.
    """
    hour, minute, second = clock
    if year is not None:
        try:
            stamp = datetime(year, month, day, hour, minute, second, tzinfo=tz)
            return stamp.astimezone(UTC)
        except ValueError:
            raise ParseError(_bad_stamp(month, day, clock, year)) from None
        except OverflowError:
            stamp_text = _stamp_text(month, day, clock, year)
            raise ParseError(_out_of_range(stamp_text)) from None

    guess = received_at.year
    try:
        stamp = datetime(guess, month, day, hour, minute, second, tzinfo=tz)
    except ValueError:
        stamp = None
    try:
        if stamp is None or abs(stamp - received_at) > _HALF_YEAR:
            stamp = _nearest_year(month, day, clock, received_at, tz)
        return stamp.astimezone(UTC)
    except OverflowError:
        # Only a receive time within a day of year 1 or 9999 gets here.
        stamp_text = _stamp_text(month, day, clock, guess)
        raise ParseError(_out_of_range(stamp_text)) from None


def _nearest_year(
    month: int,
    day: int,
    clock: tuple[int, int, int],
    received_at: datetime,
    tz: tzinfo,
) -> datetime:
    """Return the valid candidate in the years around receipt nearest to it."""
    hour, minute, second = clock
    candidates = []
    for year in (received_at.year - 1, received_at.year, received_at.year + 1):
        try:
            stamp = datetime(year, month, day, hour, minute, second, tzinfo=tz)
        except ValueError:
            continue
        candidates.append(stamp)

    if not candidates:
        raise ParseError(_bad_stamp(month, day, clock, None))
    return min(candidates, key=lambda stamp: abs(stamp - received_at))


def _bad_stamp(
    month: int, day: int, clock: tuple[int, int, int], year: int | None
) -> str:
    if year is None:
        when = _stamp_text(month, day, clock, None)
        return f"invalid timestamp {when} (no such date within a year of receipt)"
    return f"invalid timestamp {_stamp_text(month, day, clock, year)}"


def _stamp_text(
    month: int, day: int, clock: tuple[int, int, int], year: int | None
) -> str:
    hour, minute, second = clock
    when = f"{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}"
    return when if year is None else f"{year:04}-{when}"


def _out_of_range(stamp: str) -> str:
    return f"timestamp {stamp!r:.40} is out of range in UTC (years 1 to 9999)"
