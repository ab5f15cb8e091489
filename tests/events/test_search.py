import pytest
from django.db.models import Q

from events.models import Event
from events.search import SearchError, parse_search


def matching(text: str) -> set[str]:
    return set(
        Event.objects.filter(parse_search(text)).values_list("src_ip", flat=True)
    )


@pytest.fixture
def events(make_event):
    make_event("185.220.101.5", dst_port=23, protocol="tcp", src_country="DE")
    make_event("185.221.0.1", dst_port=23, protocol="udp", src_country="DE")
    make_event("2a01:4f8:10::1", dst_port=443, protocol="tcp", src_country="DE")
    make_event("198.51.100.9", dst_ip="185.220.9.9", dst_port=445, src_country="BR")
    make_event("2001:db8::7", dst_port=6881, protocol="udp", src_country="")


@pytest.mark.django_db
def test_address_matches_either_side(events):
    assert matching("185.220.101.5") == {"185.220.101.5"}
    assert matching("185.220.9.9") == {"198.51.100.9"}


@pytest.mark.django_db
def test_ipv4_block_is_a_range_over_both_sides(events):
    assert matching("185.220.0.0/16") == {"185.220.101.5", "198.51.100.9"}
    assert matching("src:185.220.0.0/16") == {"185.220.101.5"}
    assert matching("dst:185.220.0.0/16") == {"198.51.100.9"}


@pytest.mark.django_db
def test_ipv6_block_matches_only_its_addresses(events):
    assert matching("2a01:4f8::/32") == {"2a01:4f8:10::1"}
    assert matching("2001:db8::7") == {"2001:db8::7"}


@pytest.mark.django_db
def test_port_with_protocol_and_bare_port(events):
    assert matching("23/tcp") == {"185.220.101.5"}
    assert matching("23/UDP") == {"185.221.0.1"}
    assert matching("6881") == {"2001:db8::7"}


@pytest.mark.django_db
def test_country_code_and_terms_combine(events):
    assert matching("br") == {"198.51.100.9"}
    assert matching("DE 23") == {"185.220.101.5", "185.221.0.1"}


@pytest.mark.django_db
def test_country_name_in_english_or_japanese(events):
    from geo.models import Country

    Country.objects.create(code="DE", name="Germany", name_ja="ドイツ")
    Country.objects.create(code="US", name="United States", name_ja="アメリカ合衆国")

    assert matching("germany") == matching("ドイツ") == matching("DE")
    assert Event.objects.filter(parse_search("United States")).count() == 0


@pytest.mark.parametrize(
    "text", ["hello", "300.1.1.1", "70000", "70000/tcp", "1.2.3.4/40", "src:nonsense"]
)
@pytest.mark.django_db
def test_terms_not_understood_are_reported(text):
    with pytest.raises(SearchError):
        parse_search(text)


def test_searches_are_equalities_and_ranges_never_substring_matches():
    condition = parse_search("185.220.0.0/16 23/tcp")

    lookups = [child[0] for child in flatten(condition)]
    assert lookups == ["src_ip__range", "dst_ip__range", "dst_port", "protocol"]


def flatten(condition: Q):
    for child in condition.children:
        if isinstance(child, Q):
            yield from flatten(child)
        else:
            yield child


@pytest.mark.django_db
def test_search_range_bounds_are_bytes_for_the_binary_column(events):
    condition = parse_search("185.220.0.0/16")
    first, last = next(flatten(condition))[1]
    assert first == bytes(10) + b"\xff\xff" + bytes([185, 220, 0, 0])
    assert last == bytes(10) + b"\xff\xff" + bytes([185, 220, 255, 255])
