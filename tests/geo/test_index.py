import ipaddress
import random
from datetime import date

import pytest

import geo.index
from events.fields import pack_ip
from geo.index import CountryIndex, SourceRange

OLD = date(2024, 1, 1)
NEW = date(2024, 1, 2)


def v4(first: str, last: str, code: str, day=OLD, registry="arin") -> SourceRange:
    return SourceRange(
        4,
        int(ipaddress.IPv4Address(first)),
        int(ipaddress.IPv4Address(last)),
        code,
        day,
        registry,
    )


def v6(network: str, code: str, day=OLD, registry="arin") -> SourceRange:
    block = ipaddress.IPv6Network(network)
    return SourceRange(
        6,
        int(block.network_address),
        int(block.broadcast_address),
        code,
        day,
        registry,
    )


def test_empty_index_answers_unknown():
    index = CountryIndex()

    assert index.lookup("192.0.2.1") == ""
    assert index.lookup("2001:db8::1") == ""
    assert index.lookup_packed(pack_ip("192.0.2.1")) == ""


def test_text_packed_and_bare_ipv4_forms_agree():
    index = CountryIndex.build(
        [v4("192.0.2.0", "192.0.2.255", "JP"), v6("2001:db8::/32", "DE")], ()
    )

    assert index.lookup("192.0.2.77") == "JP"
    assert index.lookup("::ffff:192.0.2.77") == "JP"
    assert index.lookup(pack_ip("192.0.2.77")) == "JP"
    assert index.lookup_packed(pack_ip("192.0.2.77")) == "JP"
    assert index.lookup_packed(bytes([192, 0, 2, 77])) == "JP"
    assert index.lookup_packed(memoryview(pack_ip("192.0.2.77"))) == "JP"
    assert index.lookup(bytearray(pack_ip("2001:db8:1::5"))) == "DE"
    assert index.lookup("2001:DB8::5") == "DE"


@pytest.mark.parametrize(
    "address",
    ["192.0.1.255", "192.0.3.0", "0.0.0.0", "255.255.255.255", "2001:db9::", "::"],
)
def test_addresses_just_outside_ranges_are_unknown(address):
    index = CountryIndex.build(
        [v4("192.0.2.0", "192.0.2.255", "JP"), v6("2001:db8::/32", "DE")], ()
    )

    assert index.lookup(address) == ""


@pytest.mark.parametrize(
    "value",
    ["", "192.0.2", "fe80::1%em0", "not an address", b"", b"\x01\x02", b"x" * 17],
)
def test_input_that_is_not_an_address_is_unknown(value):
    index = CountryIndex.build([v4("0.0.0.0", "255.255.255.255", "ZA")], ())

    assert index.lookup(value) == ""


def test_ranges_at_the_ends_of_the_address_space():
    index = CountryIndex.build(
        [
            v4("0.0.0.0", "0.0.0.0", "AA"),
            v4("255.255.255.255", "255.255.255.255", "BB"),
        ],
        (),
    )

    assert index.lookup("0.0.0.0") == "AA"
    assert index.lookup("0.0.0.1") == ""
    assert index.lookup("255.255.255.254") == ""
    assert index.lookup("255.255.255.255") == "BB"


def test_ipv6_ranges_at_the_ends_of_the_address_space():
    index = CountryIndex.build(
        [v6("::/64", "AA"), v6("ffff:ffff:ffff:ffff::/64", "BB")], ()
    )

    assert index.lookup("::") == "AA"
    assert index.lookup("::ffff:ffff:ffff:ffff") == "AA"
    assert index.lookup("0:0:0:1::") == ""
    assert index.lookup("ffff:ffff:ffff:fffe:ffff:ffff:ffff:ffff") == ""
    assert index.lookup("ffff:ffff:ffff:ffff::") == "BB"
    assert index.lookup("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") == "BB"


def test_overlap_newest_snapshot_wins_and_is_counted():
    old = v4("10.0.0.0", "10.0.255.255", "US", OLD, "arin")
    new = v4("10.0.0.0", "10.0.255.255", "DE", NEW, "ripencc")

    for order in ([old, new], [new, old]):
        index = CountryIndex.build(order, ())

        assert index.lookup("10.0.3.4") == "DE"
        assert index.overlap_count == 1
        assert index.cross_registry_overlap_count == 1


def test_overlap_on_the_same_day_smallest_range_wins():
    wide = v4("10.0.0.0", "10.0.255.255", "US", OLD, "arin")
    narrow = v4("10.0.4.0", "10.0.4.255", "CA", OLD, "arin")

    index = CountryIndex.build([narrow, wide], ())

    assert index.lookup("10.0.3.255") == "US"
    assert index.lookup("10.0.4.0") == "CA"
    assert index.lookup("10.0.4.255") == "CA"
    assert index.lookup("10.0.5.0") == "US"
    assert index.overlap_count == 1
    assert index.cross_registry_overlap_count == 0


def test_partial_overlap_splits_at_the_newer_range():
    older = v6("2001:db8::/32", "US", OLD, "arin")
    newer = v6("2001:db8:8000::/33", "BR", NEW, "lacnic")

    index = CountryIndex.build([older, newer], ())

    assert index.lookup("2001:db8:7fff::1") == "US"
    assert index.lookup("2001:db8:8000::1") == "BR"
    assert index.lookup("2001:db8:ffff:ffff::") == "BR"


def test_adjacent_ranges_of_one_country_merge_into_one_segment():
    index = CountryIndex.build(
        [v4("10.0.0.0", "10.0.0.255", "JP"), v4("10.0.1.0", "10.0.1.255", "JP")], ()
    )

    assert index.v4_bounds == [0, int(ipaddress.IPv4Address("10.0.0.0")), 167772672]
    assert index.v4_codes == ["", "JP", ""]


@pytest.mark.parametrize("leaf_segments", [64, 2])
def test_random_ranges_with_overlaps_match_a_brute_force_reading(
    monkeypatch, leaf_segments
):
    monkeypatch.setattr(geo.index, "LEAF_SEGMENTS", leaf_segments)
    rng = random.Random(20240101)
    registries = ["afrinic", "apnic", "arin", "lacnic", "ripencc"]
    ranges = []
    for _ in range(400):
        first = rng.randrange(0, 2**32 - 1)
        if rng.random() < 0.7:
            first &= 0xFFFF0000 if rng.random() < 0.5 else 0xFFFFFF00
        size = rng.choice([1, 3, 256, 768, 4096, 65536, 1 << 20])
        last = min(first + size - 1, 2**32 - 1)
        ranges.append(
            SourceRange(
                4,
                first,
                last,
                rng.choice(["JP", "DE", "BR", "ZA", "US"]),
                date(2024, 1, rng.randint(1, 3)),
                rng.choice(registries),
            )
        )
    index = CountryIndex.build(list(ranges), ())

    probes = [rng.randrange(2**32) for _ in range(3000)]
    probes += [item.first for item in ranges] + [item.last for item in ranges]
    probes += [item.last + 1 for item in ranges if item.last < 2**32 - 1]
    for number in probes:
        covering = [r for r in ranges if r.first <= number <= r.last]
        best = min(
            covering,
            key=lambda r: (-r.file_date.toordinal(), r.last - r.first, r.registry),
            default=None,
        )
        expected = best.code if best else ""
        address = str(ipaddress.IPv4Address(number))
        assert index.lookup(address) == expected, address


def test_top_table_blocks_hold_the_same_answers_as_the_bounds():
    ranges = [
        v4("1.0.0.0", "1.0.255.255", "AU"),
        v4("1.1.0.0", "1.1.0.127", "CN"),
        v4("1.1.0.200", "1.1.2.10", "JP"),
    ]
    index = CountryIndex.build(ranges, ())

    for number in range(int(ipaddress.IPv4Address("1.0.255.250")), 16843300):
        address = ipaddress.IPv4Address(number)
        expected = next((r.code for r in ranges if r.first <= number <= r.last), "")
        assert index.lookup(str(address)) == expected


def test_crowded_ipv6_block_uses_sub_tables_and_answers_exactly():
    rng = random.Random(6)
    starts = sorted(rng.sample(range(1 << 20), 3000))
    ranges = [
        SourceRange(
            6,
            (0x2A00 << 112) + (start << 92),
            (0x2A00 << 112) + (start << 92) + (1 << 92) - 1,
            rng.choice(["DE", "FR", "NL"]),
            OLD,
            "ripencc",
        )
        for start in starts
    ]
    index = CountryIndex.build(ranges, ())
    by_first = {item.first >> 92: item.code for item in ranges}

    for _ in range(5000):
        number = (0x2A00 << 112) + rng.getrandbits(112)
        expected = by_first.get(number >> 92, "")
        address = str(ipaddress.IPv6Address(number))
        assert index.lookup(address) == expected, address
        assert index.lookup_packed(ipaddress.IPv6Address(number).packed) == expected


def random_v6_ranges(rng: random.Random, count: int, unaligned: bool) -> list:
    """Return prefixes crowded as registry data is, some overlapping.

    Most fall in two /16s and in one /32 of those, so the index needs
    sub-tables of several depths; with ``unaligned`` some are longer than
    /64, which the index must also answer exactly.
    """
    lengths = [19, 23, 29, 29, 32, 32, 32, 36, 40, 44, 48, 48, 48]
    if unaligned:
        lengths += [65, 96, 127, 128]
    ranges = []
    for _ in range(count):
        top = rng.choice([0x2001, 0x2A00, 0x2A00, rng.randrange(0x2000, 0x4000)])
        number = (top << 112) | rng.getrandbits(112)
        if rng.random() < 0.4:
            number = (number >> 96 << 96) | (0x067C << 80) | (number & (1 << 80) - 1)
        length = rng.choice(lengths)
        first = number >> (128 - length) << (128 - length)
        ranges.append(
            SourceRange(
                6,
                first,
                first + (1 << (128 - length)) - 1,
                rng.choice(["JP", "DE", "BR", "ZA", "US", "NL"]),
                date(2024, 1, rng.randint(1, 3)),
                rng.choice(["afrinic", "apnic", "arin", "lacnic", "ripencc"]),
            )
        )
    return ranges


@pytest.mark.parametrize("leaf_segments", [8, 1])
@pytest.mark.parametrize("unaligned", [False, True])
def test_ipv6_lookups_match_a_direct_reading_of_the_ranges(
    monkeypatch, leaf_segments, unaligned
):
    monkeypatch.setattr(geo.index, "LEAF_SEGMENTS", leaf_segments)
    rng = random.Random(6 + unaligned)
    ranges = random_v6_ranges(rng, 700, unaligned)
    index = CountryIndex.build(list(ranges), ())
    assert any(bound % 2**64 for bound in index.v6_bounds) == unaligned

    probes = [rng.randrange(2**128) for _ in range(500)]
    probes += [rng.randint(item.first, item.last) for item in ranges]
    for item in ranges:
        probes += [item.first - 1, item.first, item.last, item.last + 1]
    # Between ranges: just past one range and before the next start.
    starts = sorted({item.first for item in ranges})
    probes += [rng.randint(a, b) for a, b in zip(starts, starts[1:], strict=False)]
    for number in probes:
        covering = [r for r in ranges if r.first <= number <= r.last]
        # The same range twice from one registry and day: the smaller code.
        best = min(
            covering,
            key=lambda r: (
                -r.file_date.toordinal(),
                r.last - r.first,
                r.registry,
                r.code,
            ),
            default=None,
        )
        expected = best.code if best else ""
        packed = ipaddress.IPv6Address(number).packed
        assert index.lookup(str(ipaddress.IPv6Address(number))) == expected, number
        assert index.lookup_packed(packed) == expected, number
        assert index.lookup(memoryview(packed)) == expected, number


@pytest.mark.parametrize("unaligned", [False, True])
def test_ipv4_mapped_text_is_answered_from_ipv4_in_both_ipv6_layouts(unaligned):
    ranges = [v4("192.0.2.0", "192.0.2.255", "JP"), v6("::/16", "XX")]
    if unaligned:
        ranges.append(v6("2001:db8::1/128", "DE"))
    index = CountryIndex.build(ranges, ())

    assert index.lookup("::ffff:192.0.2.7") == "JP"
    assert index.lookup("::ffff:c000:207") == "JP"
    assert index.lookup("::ffff:192.0.3.7") == ""
    assert index.lookup("::1") == "XX"
    assert index.lookup("::fffe:c000:207") == "XX"
    assert index.lookup("2001:db8::1") == ("DE" if unaligned else "")
    assert index.lookup("2001:db8::2") == ""
