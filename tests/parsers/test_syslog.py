from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from events.parsers import ParsedEvent, ParseFailure, parse_message
from events.parsers.syslog import parse_envelope
from events.parsers.types import ParseError

RECEIVED = datetime(2024, 6, 30, 3, 35, 0, tzinfo=UTC)
TOKYO = ZoneInfo("Asia/Tokyo")
CSV = (
    "5,,,1000000103,igb0,match,block,in,4,0x0,,113,10251,0,none,17,udp,132,"
    "198.51.100.60,203.0.113.7,8999,51412,112"
)


def envelope(text, received_at=RECEIVED, tz=UTC):
    return parse_envelope(text, received_at, tz)


def at(*args, tz=UTC):
    return datetime(*args, tzinfo=tz).astimezone(UTC)


# RFC 3164 shapes of FORMATS.md 2.3: (id, text, hostname, app, pid, msg).
BSD_CASES = [
    (
        "pfsense-no-host-pid",
        "<134>Jun 30 12:34:56 filterlog[44812]: 4,,,x",
        "",
        "filterlog",
        "44812",
        "4,,,x",
    ),
    (
        "tag-without-pid",
        "<134>Jun  3 07:05:09 filterlog: 5,,,x",
        "",
        "filterlog",
        None,
        "5,,,x",
    ),
    (
        "host-and-tag",
        "<134>Jun 30 12:35:01 opn-gw.home.arpa filterlog[53211]: 5,,,x",
        "opn-gw.home.arpa",
        "filterlog",
        "53211",
        "5,,,x",
    ),
    (
        "opnsense-23-tag-without-colon",
        "<134>Jun 30 12:35:01 DEVICENAME filterlog[69604] 173,,,x",
        "DEVICENAME",
        "filterlog",
        "69604",
        "173,,,x",
    ),
    (
        "no-host-tag-pid-without-colon",
        "<134>Jun 30 12:35:01 filterlog[69604] 173,,,x",
        "",
        "filterlog",
        "69604",
        "173,,,x",
    ),
    (
        "relay-ip-host-double-space",
        "<133>Jun 30 12:34:56 192.0.2.254  [INSPECT] LAN2[out][101] TCP",
        "192.0.2.254",
        "",
        None,
        "[INSPECT] LAN2[out][101] TCP",
    ),
    (
        "bracket-right-after-stamp",
        "<4>Jun 30 12:34:56 [UFW BLOCK] IN=eth0",
        "",
        "",
        None,
        "[UFW BLOCK] IN=eth0",
    ),
    (
        "extra-word-between-host-and-tag",
        "<12>Jun 30 12:34:56 edge-gw user.info kernel: [WAN_IN-2000-D]IN=eth0",
        "edge-gw",
        "kernel",
        None,
        "[WAN_IN-2000-D]IN=eth0",
    ),
    (
        "leading-space-in-msg",
        "<4>Jun 30 12:34:56 gw kernel:  DROP-IN: IN=eth0",
        "gw",
        "kernel",
        None,
        "DROP-IN: IN=eth0",
    ),
    (
        "host-without-tag",
        "<134>Jun 30 12:34:56 fw 5,,,x",
        "fw",
        "",
        None,
        "5,,,x",
    ),
    (
        "ipv6-host-ending-in-colons",
        "<134>Jun 30 12:34:56 2001:db8:: filterlog[1]: 5,,,x",
        "2001:db8::",
        "filterlog",
        "1",
        "5,,,x",
    ),
    (
        "ipv6-host",
        "<134>Jun 30 12:34:56 2001:db8::1 filterlog: 5,,,x",
        "2001:db8::1",
        "filterlog",
        None,
        "5,,,x",
    ),
    (
        "uuid-like-host",
        "<134>Jun 30 12:34:56 4856d45d-0c2e.localdomain filterlog[7]: 5,,,x",
        "4856d45d-0c2e.localdomain",
        "filterlog",
        "7",
        "5,,,x",
    ),
    (
        "pri-less-local-file-line",
        "Jun 30 12:34:56 host filterlog[1]: 5,,,x",
        "host",
        "filterlog",
        "1",
        "5,,,x",
    ),
    (
        "day-not-padded",
        "<134>Jun 3 12:34:56 fw dhcpd[40152]: DHCPDISCOVER from x",
        "fw",
        "dhcpd",
        "40152",
        "DHCPDISCOVER from x",
    ),
    (
        "day-zero-padded",
        "<134>Jun 03 12:34:56 fw unbound[7]: [26931:0] info: x",
        "fw",
        "unbound",
        "7",
        "[26931:0] info: x",
    ),
]


@pytest.mark.parametrize(
    ("text", "hostname", "app", "pid", "msg"),
    [case[1:] for case in BSD_CASES],
    ids=[case[0] for case in BSD_CASES],
)
def test_bsd_header_host_tag_and_msg(text, hostname, app, pid, msg):
    result = envelope(text)

    assert (result.hostname, result.app, result.msg) == (hostname, app, msg)
    assert result.extra.get("pid") == pid
    assert ("app" in result.extra) == bool(app)
    assert result.time_inferred is True


def test_bsd_pri_kept_in_extra():
    assert envelope("<134>Jun 30 12:34:56 filterlog: x").extra["pri"] == 134


def test_bsd_without_pri_has_null_pri():
    assert envelope("Jun 30 12:34:56 fw filterlog: x").extra["pri"] is None


def test_bsd_stamp_uses_device_zone():
    result = envelope("<134>Jun 30 12:34:56 filterlog[1]: x", tz=TOKYO)

    assert result.occurred_at == datetime(2024, 6, 30, 3, 34, 56, tzinfo=UTC)
    assert result.occurred_at.tzinfo is UTC


def test_bsd_stamp_with_fixed_offset_zone():
    result = envelope(
        "<134>Jun 30 12:34:56 filterlog[1]: x", tz=timezone(timedelta(hours=-5))
    )

    assert result.occurred_at == datetime(2024, 6, 30, 17, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "received_at", "expected"),
    [
        (
            "Dec 31 23:59:58",
            datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC),
            datetime(2025, 12, 31, 23, 59, 58, tzinfo=UTC),
        ),
        (
            "Jan  1 00:00:01",
            datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC),
            datetime(2026, 1, 1, 0, 0, 1, tzinfo=UTC),
        ),
        (
            "Jun 30 12:00:00",
            datetime(2025, 6, 30, 12, 0, 5, tzinfo=UTC),
            datetime(2025, 6, 30, 12, 0, 0, tzinfo=UTC),
        ),
        (
            "Feb 29 10:00:00",
            datetime(2024, 3, 1, 0, 0, 0, tzinfo=UTC),
            datetime(2024, 2, 29, 10, 0, 0, tzinfo=UTC),
        ),
        (
            "Feb 29 10:00:00",
            datetime(2025, 1, 2, 0, 0, 0, tzinfo=UTC),
            datetime(2024, 2, 29, 10, 0, 0, tzinfo=UTC),
        ),
        (
            "Feb 29 10:00:00",
            datetime(2027, 12, 31, 0, 0, 0, tzinfo=UTC),
            datetime(2028, 2, 29, 10, 0, 0, tzinfo=UTC),
        ),
    ],
    ids=[
        "dec31-received-new-year",
        "jan1-received-new-years-eve",
        "same-day",
        "feb29-leap-year",
        "feb29-previous-leap-year",
        "feb29-next-leap-year",
    ],
)
def test_bsd_year_is_nearest_to_receipt(stamp, received_at, expected):
    result = envelope(f"<134>{stamp} filterlog[1]: x", received_at=received_at)

    assert result.occurred_at == expected


def test_bsd_year_uses_device_zone_around_new_year():
    # 00:00:10 on Jan 1 in Tokyo is still Dec 31 in UTC.
    received_at = datetime(2025, 12, 31, 15, 0, 20, tzinfo=UTC)

    result = envelope("<134>Jan  1 00:00:10 filterlog[1]: x", received_at, TOKYO)

    assert result.occurred_at == datetime(2025, 12, 31, 15, 0, 10, tzinfo=UTC)


def test_bsd_feb29_far_from_any_leap_year_fails():
    received_at = datetime(2026, 6, 30, tzinfo=UTC)

    with pytest.raises(ParseError, match="invalid timestamp"):
        envelope("<134>Feb 29 10:00:00 filterlog[1]: x", received_at)


def test_bsd_impossible_date_fails():
    with pytest.raises(ParseError, match="invalid timestamp"):
        envelope("<134>Apr 31 10:00:00 filterlog[1]: x")


@pytest.mark.parametrize(
    ("raw", "stamp"),
    [
        ("<134>1 9999-12-31T23:59:59-01:00 h app - - - x", "9999-12-31T23:59:59-01:00"),
        ("<134>1 0001-01-01T00:00:00+01:00 h app - - - x", "0001-01-01T00:00:00+01:00"),
        ("<134>9999-12-31T23:30:00-05:00 app: x", "9999-12-31T23:30:00-05:00"),
        ("<134>Jan  1 00:00:00 0001 app: x", "0001-01-01 00:00:00"),
    ],
)
def test_stamp_beyond_the_years_utc_can_hold_is_a_clear_failure(raw, stamp):
    result = parse_message(raw.encode(), received_at=RECEIVED, tz=TOKYO)

    assert result == ParseFailure(
        f"timestamp {stamp!r} is out of range in UTC (years 1 to 9999)"
    )


def test_bsd_year_before_clock_is_used():
    result = envelope("<188>Oct  3 2024 13:19:33 host app: x", tz=TOKYO)

    assert result.occurred_at == at(2024, 10, 3, 13, 19, 33, tz=TOKYO)
    assert (result.hostname, result.app, result.msg) == ("host", "app", "x")
    assert result.time_inferred is True


def test_bsd_year_after_clock_is_used():
    result = envelope("<188>Oct  3 13:19:33 2023 host app: x")

    assert result.occurred_at == at(2023, 10, 3, 13, 19, 33)
    assert result.hostname == "host"


def test_rfc3339_in_bsd_position_keeps_offset_and_fraction():
    text = "<4>2024-06-30T12:37:00.123456+02:00 gw01 kernel: DROP IN=eth0"

    result = envelope(text, tz=TOKYO)

    assert result.occurred_at == datetime(2024, 6, 30, 10, 37, 0, 123456, tzinfo=UTC)
    assert result.time_inferred is False
    assert (result.hostname, result.app, result.msg) == (
        "gw01",
        "kernel",
        "DROP IN=eth0",
    )


def test_repeated_stamp_is_dated_per_receipt():
    text = "<134>Dec 31 23:59:58 filterlog[1]: x"

    first = envelope(text, datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC))
    later = envelope(text, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC))
    other_zone = envelope(text, datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), TOKYO)

    assert first.occurred_at.year == 2025
    assert later.occurred_at == datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    assert other_zone.occurred_at == at(2026, 12, 31, 23, 59, 58, tz=TOKYO)


# RFC 5424 ------------------------------------------------------------------


def test_rfc5424_pfsense_nil_msgid_and_sd():
    text = (
        "<134>1 2021-07-03T19:10:14.578288-05:00 pfSense.example.com filterlog "
        "72237 - - 146,,,x"
    )

    result = envelope(text, tz=TOKYO)

    assert result.occurred_at == datetime(2021, 7, 4, 0, 10, 14, 578288, tzinfo=UTC)
    assert result.time_inferred is False
    assert (result.hostname, result.app, result.msg) == (
        "pfSense.example.com",
        "filterlog",
        "146,,,x",
    )
    assert result.extra == {"pri": 134, "app": "filterlog", "pid": "72237"}


def test_rfc5424_opnsense_meta_sd():
    text = (
        "<134>1 2022-06-09T14:44:11-06:00 OPNsense.example.com filterlog 76404 - "
        '[meta sequenceId="1"] 124,,,x'
    )

    result = envelope(text)

    assert result.occurred_at == datetime(2022, 6, 9, 20, 44, 11, tzinfo=UTC)
    assert result.extra["sd"] == '[meta sequenceId="1"]'
    assert result.msg == "124,,,x"


def test_rfc5424_several_sd_elements_with_escapes():
    sd = r'[a@1 x="q\"uote" y="br\]acket"][b@2 z="back\\slash" e=""]'
    text = f"<13>1 2024-06-30T12:34:56Z host app 12 ID47 {sd} hello [world]"

    result = envelope(text)

    assert result.extra["sd"] == sd
    assert result.extra["msgid"] == "ID47"
    assert result.msg == "hello [world]"


def test_rfc5424_sd_without_msg():
    result = envelope('<13>1 2024-06-30T12:34:56Z host app - - [meta n="1"]')

    assert result.extra["sd"] == '[meta n="1"]'
    assert result.msg == ""


def test_rfc5424_sloppy_sd_is_read_as_msg():
    text = "<4>1 2024-06-30T12:34:56+09:00 host kernel - - [UFW BLOCK] IN=eth0"

    result = envelope(text)

    assert result.msg == "[UFW BLOCK] IN=eth0"
    assert "sd" not in result.extra


def test_rfc5424_sd_glued_to_msg_is_read_as_msg():
    text = '<13>1 2024-06-30T12:34:56Z host app - - [a x="1"]text'

    result = envelope(text)

    assert result.msg == '[a x="1"]text'
    assert "sd" not in result.extra


def test_rfc5424_nil_timestamp_uses_receipt():
    result = envelope("<134>1 - host filterlog 1 - - x")

    assert result.occurred_at == RECEIVED
    assert result.time_inferred is True


def test_rfc5424_nil_hostname_and_app():
    result = envelope("<134>1 2024-06-30T12:34:56Z - - - - - x")

    assert (result.hostname, result.app, result.msg) == ("", "", "x")
    assert result.extra == {"pri": 134}


def test_rfc5424_ipv6_hostname():
    result = envelope("<134>1 2024-06-30T12:34:56Z 2001:db8:: filterlog 1 - - x")

    assert result.hostname == "2001:db8::"


def test_rfc5424_bom_is_stripped():
    text = "<133>1 2024-06-30T12:34:56+09:00 host app - - \ufeffmessage"

    assert envelope(text).msg == "message"


def test_rfc5424_double_space_before_msg():
    assert envelope("<134>1 2024-06-30T12:34:56Z h a - - -  x").msg == "x"


def test_rfc5424_broken_header_with_pri_fails():
    with pytest.raises(ParseError, match="invalid RFC 5424 header"):
        envelope("<134>1 yesterday host app - - x")


def test_rfc5424_out_of_range_date_fails():
    with pytest.raises(ParseError, match="invalid timestamp"):
        envelope("<134>1 2024-13-30T12:34:56Z host app - - x")


def test_rfc5424_leap_second_is_kept_as_59():
    result = envelope("<134>1 2016-12-31T23:59:60Z host app - - x")

    assert result.occurred_at == datetime(2016, 12, 31, 23, 59, 59, tzinfo=UTC)


# No header -----------------------------------------------------------------


def test_pri_only_message_has_no_host_or_time():
    result = envelope("<133>PP[01] Rejected at IN(1012) filter: TCP")

    assert result.occurred_at == RECEIVED
    assert result.time_inferred is True
    assert (result.hostname, result.app) == ("", "")
    assert result.msg == "PP[01] Rejected at IN(1012) filter: TCP"
    assert result.extra == {"pri": 133}


def test_pri_followed_by_space():
    assert envelope("<133> PP[01] Rejected").msg == "PP[01] Rejected"


def test_bare_csv_line():
    result = envelope(CSV)

    assert result.msg == CSV
    assert result.extra == {"pri": None}
    assert result.occurred_at == RECEIVED


@pytest.mark.parametrize("text", ["<192>x", "<1000>x", "<01>x", "<x>y", "<>y", "<13"])
def test_invalid_pri_fails(text):
    with pytest.raises(ParseError, match="invalid PRI"):
        envelope(text)


def test_pri_zero_is_valid():
    assert envelope("<0>x").extra["pri"] == 0


# Bytes hygiene through parse_message (FORMATS.md 2.7) -----------------------


@pytest.mark.parametrize(
    "trailer",
    [b"", b"\n", b"\r\n", b"\x00", b"\x00\x00", b"\n\x00"],
    ids=["none", "lf", "crlf", "nul", "two-nul", "lf-nul"],
)
def test_trailers_are_stripped(trailer):
    raw = f"<134>Jun 30 12:34:56 filterlog[1]: {CSV}".encode() + trailer

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert isinstance(result, ParsedEvent)
    assert result.extra["data_length"] == 112


@pytest.mark.parametrize("raw", [b"", b"\n", b"\x00", b"<134>", b"<134>\r\n"], ids=repr)
def test_empty_message_fails(raw):
    assert parse_message(raw, received_at=RECEIVED, tz=UTC) == ParseFailure(
        "empty message"
    )


def test_header_without_msg_fails_with_hostname():
    raw = b"<134>1 2024-06-30T12:34:56Z fw filterlog 1 - -"

    result = parse_message(raw, received_at=RECEIVED, tz=UTC)

    assert result == ParseFailure("empty message", "fw")


def test_invalid_utf8_is_replaced():
    raw = b"<134>1 2024-06-30T12:34:56Z fw app - - caf\xe9 \xff"

    assert envelope(raw.decode("utf-8", "replace")).msg == "caf\ufffd \ufffd"
    result = parse_message(raw, received_at=RECEIVED, tz=UTC)
    assert result == ParseFailure("not a filter log message (app 'app')", "fw")


def test_bom_after_bsd_tag_is_stripped():
    raw = b"<134>Jun 30 12:34:56 filterlog[1]: \xef\xbb\xbf" + CSV.encode()

    assert isinstance(parse_message(raw, received_at=RECEIVED, tz=UTC), ParsedEvent)
