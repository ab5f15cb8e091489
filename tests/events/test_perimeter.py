from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from events.fields import pack_ip
from events.ingest.devices import DeviceProfile, internal_ranges
from events.models import Device, Event, validate_networks
from tests.events.test_listener import (
    make_listener,
    sample_lines,
    send_udp,
    wait_for,
)

NETWORKS = """
10.0.0.0/8        # office
192.168.1.0/24
2001:db8:1::/48
203.0.113.7/32    # the firewall's public address
"""


def profile(networks: str = NETWORKS) -> DeviceProfile:
    starts, ends = internal_ranges(networks)
    return DeviceProfile(1, "auto", ZoneInfo("UTC"), True, starts, ends)


@pytest.mark.parametrize(
    ("src", "dst", "expected"),
    [
        ("198.51.100.9", "203.0.113.7", "inbound"),
        ("198.51.100.9", "10.1.2.3", "inbound"),
        ("10.1.2.3", "1.1.1.1", "outbound"),
        ("192.168.1.20", "10.255.255.255", "internal"),
        ("198.51.100.9", "203.0.113.8", "external"),
        ("2001:db8:1:ff::1", "2606:4700::1111", "outbound"),
        ("2606:4700::1111", "2001:db8:1::53", "inbound"),
        ("2001:db8:2::1", "2001:db8:1::1", "inbound"),
        ("11.0.0.0", "9.255.255.255", "external"),
    ],
)
def test_perimeter_is_derived_from_the_internal_networks(src, dst, expected):
    assert profile().perimeter(pack_ip(src), pack_ip(dst)) == expected


def test_perimeter_is_empty_without_internal_networks():
    assert profile("").perimeter(pack_ip("10.0.0.1"), pack_ip("1.1.1.1")) == ""


def test_overlapping_and_adjacent_networks_are_merged():
    starts, ends = internal_ranges("10.0.0.0/9\n10.128.0.0/9\n10.1.0.0/16\n")

    assert len(starts) == len(ends) == 1
    assert profile("10.0.0.0/9\n10.128.0.0/9").is_internal(pack_ip("10.200.0.1"))


def test_an_ipv4_network_does_not_match_its_ipv6_lookalike():
    inside = profile("0.0.0.0/0")

    assert inside.is_internal(pack_ip("8.8.8.8"))
    assert not inside.is_internal(pack_ip("2001:db8::1"))


@pytest.mark.parametrize(
    "text", ["10.0.0.0/33", "192.168.1.1/24", "office", "10.0.0.0/8\nfe80::/10 x"]
)
def test_networks_that_are_not_cidr_blocks_are_refused(text):
    with pytest.raises(ValidationError, match="CIDR"):
        validate_networks(text)


def test_comments_blank_lines_and_bare_addresses_are_accepted():
    validate_networks("# lab\n\n192.0.2.1\n2001:db8::/32  # v6\n")


@pytest.mark.django_db(transaction=True)
def test_listener_stores_the_perimeter_beside_the_logged_direction(data_dir, tmp_path):
    device = Device.objects.create(name="gw", internal_networks="10.170.0.0/16")
    device.addresses.create(address="127.0.0.1")
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    server = make_listener(tmp_path)
    server.start()
    try:
        send_udp(server, lines)
        wait_for(lambda: Event.objects.count() == len(lines))
    finally:
        server.stop()

    outbound = Event.objects.filter(src_port=49724, dst_ip="1.1.1.1").first()
    assert (outbound.direction, outbound.perimeter) == ("in", "outbound")
    link_local = Event.objects.filter(src_ip="fe80::208:9bff:fef3:652b").first()
    assert link_local.perimeter == "external"
    assert not Event.objects.filter(perimeter="").exists()
