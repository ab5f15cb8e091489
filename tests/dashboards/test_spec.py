import re
from datetime import UTC, datetime

import pytest
from django.db.models import QuerySet

from dashboards.query import run_report
from dashboards.spec import (
    PortRange,
    SpecError,
    parse_networks,
    parse_ports,
    parse_spec,
)

VALID = {"range_last": 7, "dimensions": ["dst_port"], "chart": "bar"}

# Each entry is a report definition shaped like a known Django ORM injection
# (CVE-2022-28346 / CVE-2025-59681 aliases, CVE-2025-64459 _connector,
# PYSEC-2026-47 dotted ordering, CVE-2022-34265 Trunc kinds, relation
# traversal to other tables) or a plain attempt to smuggle SQL in a value.
INJECTION_CORPUS = [
    # Column aliases with quotes, comment markers, semicolons and blanks.
    {**VALID, 'c0" FROM auth_user --': 1},
    {**VALID, "dimensions": ['dst_port") OR 1=1 --']},
    {**VALID, "dimensions": ["dst_port'; DROP TABLE events_event; --"]},
    {**VALID, "dimensions": ["dst_port` #"]},
    {**VALID, "dimensions": ["dst port"]},
    {**VALID, "dimensions": ['country__name") OR 1=1 --']},
    {**VALID, "metric": "events') FROM auth_user --"},
    {**VALID, "metric": "Count('id')"},
    {**VALID, "chart": "bar/* */"},
    # Filter keys and values arriving as dictionaries with _connector.
    {**VALID, "_connector": "OR"},
    {**VALID, "_negated": True},
    {**VALID, "actions": {"_connector": "OR", "action": "pass"}},
    {**VALID, "countries": {"_connector": ") OR 1=1 --"}},
    # Orderings with periods, directions and raw column names.
    {**VALID, "order_by": "auth_user.password"},
    {**VALID, "dimensions": ["events_event.id"]},
    {**VALID, "dimensions": ["-m"]},
    {**VALID, "dimensions": ["g0_0"]},
    # Truncation kinds other than the enumerated buckets.
    {**VALID, "bucket": "day') FROM auth_user --"},
    {**VALID, "bucket": "second"},
    {**VALID, "bucket": "DAY"},
    {**VALID, "bucket": ["day"]},
    # Relation traversal to other tables.
    {**VALID, "dimensions": ["device__name"]},
    {**VALID, "dimensions": ["device__events__src_ip"]},
    {**VALID, "dimensions": ["owner__password"]},
    {**VALID, "dimensions": ["src_country__groups__name"]},
    {**VALID, "device__owner__password__startswith": "pbkdf2"},
    # Values that must be from a list, a number, a code or a network.
    {**VALID, "actions": ["block' OR '1'='1"]},
    {**VALID, "protocols": ["tcp' --"]},
    {**VALID, "countries": ["CN' OR '1'='1"]},
    {**VALID, "countries": ["cn"]},
    {**VALID, "devices": ["1 OR 1=1"]},
    {**VALID, "devices": [True]},
    {**VALID, "ports": "23; DROP TABLE x"},
    {**VALID, "ports": "70000"},
    {**VALID, "src_networks": "10.0.0.0/8' OR 1=1"},
    {**VALID, "top_n": "10; SELECT 1"},
    {**VALID, "top_n": 10**9},
    {**VALID, "range_last": "7 OR 1=1"},
    {**VALID, "range_unit": "seconds"},
    {**VALID, "range_last": None, "range_from": "now()", "range_to": "x"},
    {**VALID, "dimensions": ["dst_port", "protocol", "rule"]},
    "not a mapping",
]


@pytest.fixture
def orm_spy(monkeypatch):
    """Record every call of the QuerySet methods that take names."""
    calls = []
    for method in ("annotate", "alias", "filter", "exclude", "values", "order_by"):
        original = getattr(QuerySet, method)

        def spy(self, *args, _original=original, _method=method, **kwargs):
            calls.append((_method, args, kwargs))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(QuerySet, method, spy)
    return calls


@pytest.mark.parametrize("definition", INJECTION_CORPUS, ids=repr)
def test_injection_shapes_are_refused_before_any_queryset(definition, orm_spy):
    # No database access is enabled here: a query would raise RuntimeError.
    with pytest.raises(SpecError):
        run_report(parse_spec(definition))

    assert orm_spy == []


GENERATED = re.compile(r"-?(g\d_\d|m|t)")
FIXED_LOOKUPS = {
    "occurred_at__gte",
    "occurred_at__lt",
    "action__in",
    "direction__in",
    "protocol__in",
    "dst_port__in",
    "dst_port__range",
    "src_country__in",
    "device_id__in",
    "src_ip__range",
    "dst_ip__range",
}


@pytest.mark.django_db
def test_orm_receives_only_generated_aliases_and_fixed_lookups(orm_spy, now):
    spec = parse_spec(
        {
            "range_last": 30,
            "bucket": "day",
            "dimensions": ["src_network", "dst_port"],
            "metric": "distinct_sources",
            "actions": ["block", ""],
            "protocols": ["tcp"],
            "ports": "23, 1000-2000",
            "countries": ["CN"],
            "country_mode": "exclude",
            "devices": [1],
            "src_networks": "198.51.100.0/24",
            "top_n": 1,
            "chart": "stacked",
        }
    )

    run_report(spec, now)

    assert orm_spy
    for method, args, kwargs in orm_spy:
        if method in ("annotate", "alias"):
            assert all(GENERATED.fullmatch(name) for name in kwargs), kwargs
        elif method in ("values", "order_by"):
            assert all(GENERATED.fullmatch(name) for name in args), args
        else:
            for name in kwargs:
                assert name in FIXED_LOOKUPS or GENERATED.fullmatch(
                    name.removesuffix("__isnull")
                ), name


def test_valid_definition_converts_to_typed_values():
    spec = parse_spec(
        {
            "range_last": None,
            "range_from": "2026-11-01T00:00:00+00:00",
            "range_to": datetime(2026, 12, 1, tzinfo=UTC),
            "bucket": "week",
            "dimensions": ["src_country", "src_country"],
            "ports": "23, 1000 - 2000,6881",
            "src_networks": "198.51.100.7/24\n2001:db8::/32",
            "devices": [3, 3],
            "top_n": "15",
            "chart": "line",
        }
    )

    assert spec.range_from == datetime(2026, 11, 1, tzinfo=UTC)
    assert spec.dimensions == ("src_country",)
    assert spec.ports == (
        PortRange(23, 23),
        PortRange(1000, 2000),
        PortRange(6881, 6881),
    )
    assert spec.src_networks == ("198.51.100.0/24", "2001:db8::/32")
    assert spec.devices == (3,)
    assert spec.top_n == 15


@pytest.mark.parametrize(
    ("definition", "key"),
    [
        ({"chart": "stacked"}, "chart"),
        ({"chart": "bar", "bucket": "day", "dimensions": ["protocol"]}, "chart"),
        ({"chart": "bar"}, "chart"),
        ({"range_last": None}, "range_last"),
        (
            {
                "range_last": None,
                "range_from": "2026-12-02T00:00:00+00:00",
                "range_to": "2026-12-01T00:00:00+00:00",
            },
            "range_to",
        ),
    ],
)
def test_inconsistent_definitions_name_the_field_at_fault(definition, key):
    with pytest.raises(SpecError) as refused:
        parse_spec(definition)

    assert key in refused.value.errors


def test_port_and_network_parsers_explain_bad_items():
    with pytest.raises(ValueError, match="'23x' is not a port"):
        parse_ports("22, 23x")
    with pytest.raises(ValueError, match="within 0-65535"):
        parse_ports("2000-1000")
    with pytest.raises(ValueError, match="'300.1.1.1' is not a network"):
        parse_networks("300.1.1.1")
