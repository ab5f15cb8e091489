from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection

from dashboards.models import Dashboard, SavedReport

VIEWS = {
    "fwsiem_events_daily": [
        "day",
        "device_id",
        "device",
        "action",
        "direction",
        "protocol",
        "dst_port",
        "src_country",
        "events",
    ],
    "fwsiem_sources_daily": ["day", "protocol", "dst_port", "sources", "events"],
    "fwsiem_countries": ["code", "name", "name_ja", "is_iso"],
    "fwsiem_country_groups": ["group_name", "code"],
}


def select(sql: str) -> tuple[list[str], list[tuple]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [column[0] for column in cursor.description], cursor.fetchall()


def existing_views() -> set[str]:
    return {
        info.name
        for info in connection.introspection.get_table_list(connection.cursor())
        if info.type == "v"
    }


@pytest.mark.django_db
def test_views_have_their_documented_columns_and_counts(add_events, countries):
    from geo.models import CountryGroup

    CountryGroup.objects.create(name="Eastern").countries.set(["CN", "RU"])
    first = datetime(2026, 12, 1, 23, 59, tzinfo=UTC)
    add_events(3, occurred_at=first, src_ip="198.51.100.1")
    add_events(2, occurred_at=first, src_ip="198.51.100.2")
    add_events(4, occurred_at=datetime(2026, 12, 2, 0, 1, tzinfo=UTC))

    results = {name: select(f"SELECT * FROM {name} ORDER BY 1, 2") for name in VIEWS}

    for name, columns in VIEWS.items():
        assert [c.lower() for c in results[name][0]] == columns
    daily = [(str(row[0]), row[1:]) for row in results["fwsiem_events_daily"][1]]
    assert [(day, row[1:]) for day, row in daily] == [
        ("2026-12-01", ("gw", "block", "in", "tcp", 23, "CN", 5)),
        ("2026-12-02", ("gw", "block", "in", "tcp", 23, "CN", 4)),
    ]
    sources = [(str(row[0]), *row[1:]) for row in results["fwsiem_sources_daily"][1]]
    assert sources == [("2026-12-01", "tcp", 23, 2, 5), ("2026-12-02", "tcp", 23, 1, 4)]
    assert ("CN", "China", "中国", True) in [
        (code, name, name_ja, bool(iso))
        for code, name, name_ja, iso in results["fwsiem_countries"][1]
    ]
    assert sorted(results["fwsiem_country_groups"][1]) == [
        ("Eastern", "CN"),
        ("Eastern", "RU"),
    ]


@pytest.mark.django_db(transaction=True)
def test_dashboard_migrations_reverse_and_apply_again():
    call_command("migrate", "dashboards", "0001", verbosity=0)

    assert not set(VIEWS) & existing_views()
    assert not Dashboard.objects.exists()
    assert not SavedReport.objects.exists()

    call_command("migrate", "dashboards", verbosity=0)

    assert set(VIEWS) <= existing_views()
    dashboard = Dashboard.objects.get()
    assert dashboard.name == "Port scans"
    assert [panel.report.name for panel in dashboard.panels.all()] == [
        "Top destination ports blocked inbound",
        "Top source countries",
        "23/tcp per day by source country",
        "Busiest UDP ports per hour",
        "Distinct sources per destination port",
        "Events per device per hour",
    ]
    assert all(panel.report.to_spec() for panel in dashboard.panels.all())
