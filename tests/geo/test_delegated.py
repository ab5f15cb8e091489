import ipaddress
from datetime import date

import pytest

from geo.delegated import (
    DelegatedFileError,
    looks_like_html,
    parse_delegated,
    parse_md5_file,
    verify_checksum,
)
from tests.geo.conftest import APNIC_RECORDS, delegated, md5_text


@pytest.mark.parametrize(
    ("registry", "records", "counts", "ranges"),
    [
        ("afrinic", 15019, {"asn": 3326, "ipv4": 5089, "ipv6": 6604}, 5889),
        ("lacnic", 86237, {"asn": 14121, "ipv4": 19618, "ipv6": 52498}, 31391),
    ],
)
def test_real_file_parses_with_counts_equal_to_its_summary(
    rir_dir, registry, records, counts, ranges
):
    path = rir_dir / f"delegated-{registry}-extended-latest"
    data = path.read_bytes()

    checksum = verify_checksum(data, path.with_suffix(".md5").read_text())
    parsed = parse_delegated(data, registry)

    assert len(checksum) == 32
    assert parsed.header.records == records
    assert parsed.summary == counts
    assert parsed.type_counts == counts
    assert parsed.file_date == date(2023, 3, 23)
    assert len(parsed.ranges) == ranges
    assert {status for *_, status, _day in parsed.ranges} == {"allocated", "assigned"}


def test_real_file_ranges_match_a_plain_reading_of_the_records(rir_dir):
    data = (rir_dir / "delegated-afrinic-extended-latest").read_bytes()
    expected = set()
    for line in data.decode().splitlines()[4:]:
        _reg, cc, kind, start, value, _day, status, *_ = line.split("|")
        if kind == "ipv4" and status in ("allocated", "assigned"):
            first = int(ipaddress.IPv4Address(start))
            expected.add((4, first, first + int(value) - 1, cc))
        elif kind == "ipv6" and status in ("allocated", "assigned"):
            network = ipaddress.IPv6Network(f"{start}/{value}")
            last = int(network.broadcast_address)
            expected.add((6, int(network.network_address), last, cc))

    parsed = parse_delegated(data, "afrinic")

    assert {item[:4] for item in parsed.ranges} == expected


def test_ipv4_host_count_need_not_be_a_power_of_two():
    data = delegated(
        "arin", [("US", "ipv4", "192.0.2.0", "768", "20200101", "assigned")]
    )

    (item,) = parse_delegated(data, "arin").ranges

    assert item[1] == int(ipaddress.IPv4Address("192.0.2.0"))
    assert item[2] == int(ipaddress.IPv4Address("192.0.4.255"))


def test_plain_format_with_seven_fields_is_read():
    data = delegated("apnic", APNIC_RECORDS, extended=False, version="2")

    parsed = parse_delegated(data, "apnic")

    assert parsed.type_counts == {"asn": 1, "ipv4": 4, "ipv6": 1}
    assert len(parsed.ranges) == 4
    assert parsed.status_counts["available"] == 1


def test_available_reserved_and_placeholder_codes_carry_no_country():
    records = [
        ("ZZ", "ipv4", "192.0.2.0", "256", "", "available"),
        ("", "ipv6", "2001:db8::", "32", "", "reserved"),
        ("ZZ", "ipv4", "198.51.100.0", "256", "20200101", "assigned"),
    ]

    parsed = parse_delegated(delegated("ripencc", records), "ripencc")

    assert parsed.ranges == []
    assert parsed.no_country_count == 1


@pytest.mark.parametrize(
    "layout_text",
    [
        "MD5 (delegated-apnic-extended-20240101) = {hex}",
        "{hex}  delegated-apnic-extended-latest\n",
        "{hex} *delegated-apnic-extended-latest",
        "{hex}\n",
    ],
)
def test_both_md5_file_layouts_are_accepted(layout_text):
    data = delegated("apnic", APNIC_RECORDS)
    digest = md5_text(data, "x", "gnu").split()[0]

    assert verify_checksum(data, layout_text.format(hex=digest.upper())) == digest


def test_checksum_mismatch_is_refused():
    data = delegated("apnic", APNIC_RECORDS)
    other = md5_text(data + b"\n", "delegated-apnic-extended-latest")

    with pytest.raises(DelegatedFileError) as caught:
        verify_checksum(data, other)

    assert caught.value.reason == "checksum"


def test_md5_file_without_a_digest_is_refused():
    with pytest.raises(DelegatedFileError) as caught:
        parse_md5_file("<html>Not Found</html>")

    assert caught.value.reason == "checksum"


def test_html_page_served_as_the_file_is_refused():
    page = b"\n  <!DOCTYPE html>\n<html><head><title>Error</title></head></html>"

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(page, "arin")

    assert looks_like_html(page)
    assert caught.value.reason == "html"


def test_header_of_another_registry_is_refused():
    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(delegated("ripencc", []), "arin")

    assert caught.value.reason == "registry"


def test_other_format_version_is_refused():
    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(delegated("arin", [], version="3.0"), "arin")

    assert caught.value.reason == "version"


def test_truncated_file_is_refused_by_the_record_count(rir_dir):
    data = (rir_dir / "delegated-lacnic-extended-latest").read_bytes()
    cut = data[: data.rindex(b"\n", 0, len(data) // 2) + 1]

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(cut, "lacnic")

    assert caught.value.reason == "count"
    assert "86237" in str(caught.value)


def test_file_cut_inside_a_record_is_refused():
    data = delegated("apnic", APNIC_RECORDS)
    cut = data[: data.index(b"|4096|") + 3]

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(cut, "apnic")

    assert caught.value.reason in {"record", "count"}


def test_summary_count_differing_from_records_is_refused():
    data = delegated("apnic", APNIC_RECORDS).replace(
        b"apnic|*|ipv4|*|4|summary", b"apnic|*|ipv4|*|3|summary"
    )
    data = data.replace(b"|asn|*|1|", b"|asn|*|2|")

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(data, "apnic")

    assert caught.value.reason == "summary"


def test_missing_summary_line_is_refused():
    data = delegated("apnic", APNIC_RECORDS).replace(b"apnic|*|ipv6|*|1|summary\n", b"")

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(data, "apnic")

    assert caught.value.reason == "summary"


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        (("JP", "ipv4", "1.2.3", "256", "20200101", "allocated"), "IPv4"),
        (("JP", "ipv4", "255.255.255.0", "512", "20200101", "allocated"), "range"),
        (("JP", "ipv4", "1.2.3.0", "0", "20200101", "allocated"), "range"),
        (("JP", "ipv4", "1.2.3.0", "x", "20200101", "allocated"), "number"),
        (("JP", "ipv6", "2001:db8::1", "32", "20200101", "allocated"), "host bits"),
        (("JP", "ipv6", "2001:db8::", "129", "20200101", "allocated"), "128"),
        (("JAP", "ipv4", "1.2.3.0", "256", "20200101", "allocated"), "two letters"),
        (("JP", "ipv4", "1.2.3.0", "256", "20201301", "allocated"), "YYYYMMDD"),
        (("JP", "ipv4", "1.2.3.0", "256", "20200101", "granted"), "status"),
        (("JP", "ipv5", "1.2.3.0", "256", "20200101", "allocated"), "type"),
        (("JP", "asn", "AS1", "1", "20200101", "allocated"), "ASN"),
    ],
)
def test_malformed_record_refuses_the_whole_file(record, problem):
    data = delegated("apnic", [*APNIC_RECORDS[:1], record])

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(data, "apnic")

    assert caught.value.reason == "record"
    assert problem in str(caught.value)
    assert "line 7" in str(caught.value)


def test_record_of_another_registry_is_refused():
    data = delegated("apnic", APNIC_RECORDS).replace(
        b"apnic|JP|ipv4|1.0.16.0", b"arin|JP|ipv4|1.0.16.0"
    )

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(data, "apnic")

    assert "another registry" in str(caught.value)


def test_empty_and_binary_input_is_refused_not_crashed():
    for data in (b"", b"# only a comment\n", b"\xff\xfe\x00garbage"):
        with pytest.raises(DelegatedFileError):
            parse_delegated(data, "apnic")


def test_defect_report_cuts_untrusted_text():
    long_line = "apnic|JP|ipv4|" + "9" * 5000 + "|256|20200101|allocated"
    data = delegated("apnic", APNIC_RECORDS) + long_line.encode() + b"\n"

    with pytest.raises(DelegatedFileError) as caught:
        parse_delegated(data, "apnic")

    assert len(str(caught.value)) < 400
