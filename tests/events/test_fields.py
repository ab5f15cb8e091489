import pytest

from events.fields import network_bounds, pack_ip, unpack_ip
from events.models import Event


@pytest.mark.parametrize(
    "text",
    ["192.0.2.1", "0.0.0.0", "255.255.255.255", "2001:db8::1", "::", "fe80::1"],
)
def test_pack_and_unpack_round_trip(text):
    assert unpack_ip(pack_ip(text)) == text


@pytest.mark.parametrize(
    "text", ["10.170.12.", "256.1.1.1", "1.2.3", "2001:db8::1::2", "", "fe80::1%em0"]
)
def test_pack_rejects_anything_but_a_whole_address(text):
    with pytest.raises(ValueError):
        pack_ip(text)


def test_packed_order_is_numeric_order():
    addresses = ["9.255.255.255", "10.0.0.0", "10.0.0.10", "10.0.0.9", "2001:db8::"]

    packed = sorted(addresses, key=pack_ip)

    assert packed == [
        "9.255.255.255",
        "10.0.0.0",
        "10.0.0.9",
        "10.0.0.10",
        "2001:db8::",
    ]


def test_network_bounds_of_an_ipv4_block_cover_exactly_the_block():
    first, last = network_bounds("185.220.0.0/16")

    assert unpack_ip(first) == "185.220.0.0"
    assert unpack_ip(last) == "185.220.255.255"


def test_addresses_come_back_as_text_from_the_database(make_event):
    make_event("2001:0db8:0000::0001", "192.0.2.55")

    event = Event.objects.get()

    assert (event.src_ip, event.dst_ip) == ("2001:db8::1", "192.0.2.55")


def test_cidr_query_finds_ipv4_and_ipv6_members_only(make_event):
    for address in ["185.219.255.255", "185.220.0.1", "185.220.99.3", "185.221.0.0"]:
        make_event(address)
    for address in ["2a01:4f8::1", "2a01:4f8:ffff::9", "2a01:4f9::1", "::ffff:1.2.3.4"]:
        make_event(address)

    v4 = Event.objects.in_network("src_ip", "185.220.0.0/16")
    v6 = Event.objects.in_network("src_ip", "2a01:4f8::/32")

    assert sorted(e.src_ip for e in v4) == ["185.220.0.1", "185.220.99.3"]
    assert sorted(e.src_ip for e in v6) == ["2a01:4f8::1", "2a01:4f8:ffff::9"]


def test_exact_lookup_takes_text(make_event):
    make_event("198.51.100.4")
    make_event("198.51.100.5")

    assert Event.objects.filter(src_ip="198.51.100.5").count() == 1


def test_cidr_query_can_use_the_source_index(make_event):
    make_event("185.220.0.1")

    plan = Event.objects.in_network("src_ip", "185.220.0.0/16").explain()

    assert "event_src_time" in plan
