import pytest

from events.parsers.addresses import ipv4, ipv6


@pytest.mark.parametrize("text", ["192.0.2.1", "0.0.0.0", "255.255.255.255"])
def test_ipv4_accepts_dotted_quad(text):
    assert ipv4(text) == text


@pytest.mark.parametrize(
    "text",
    [
        "01.2.3.4",
        "192.0.2.01",
        "192.0.2",
        "192.0.2.",
        "192.0.2.256",
        " 192.0.2.1",
        "192.0.2.1 ",
        "192.0.2.1\x00",
        "192.0.2.\u0661",
        "0x7f.0.0.1",
        "",
    ],
    ids=repr,
)
def test_ipv4_rejects_anything_else(text):
    assert ipv4(text) is None


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2001:DB8::1", "2001:db8::1"),
        ("2001:db8:0:0:0:0:0:1", "2001:db8::1"),
        ("2001:db8::0001", "2001:db8::1"),
        ("fe80::208:9bff:fef3:652b", "fe80::208:9bff:fef3:652b"),
        ("::", "::"),
        ("::ffff:192.0.2.1", "::ffff:192.0.2.1"),
    ],
)
def test_ipv6_returns_rfc5952_text(text, canonical):
    assert ipv6(text) == canonical
    assert ipv6(text) == canonical  # served from the cache


@pytest.mark.parametrize(
    "text",
    ["fe80::1%em0", "2001:db8:::1", "2001:db8::00001", "1::2:3:4:5:6:7:8", "192.0.2.1"],
    ids=repr,
)
def test_ipv6_rejects_zone_ids_and_bad_text(text):
    assert ipv6(text) is None
