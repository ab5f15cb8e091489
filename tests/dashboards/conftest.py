from datetime import UTC, datetime

import pytest

from events.models import Device, Event

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def gateway(db) -> Device:
    return Device.objects.create(name="gw")


@pytest.fixture
def add_events(gateway):
    """Insert ``count`` copies of one event; fields default to a telnet scan."""

    def add(count: int = 1, **fields) -> None:
        values = {
            "occurred_at": datetime(2026, 12, 2, 10, 30, tzinfo=UTC),
            "received_at": NOW,
            "device": gateway,
            "action": "block",
            "direction": "in",
            "interface": "igb0",
            "ip_version": 4,
            "protocol": "tcp",
            "src_ip": "198.51.100.7",
            "dst_ip": "203.0.113.1",
            "src_port": 40000,
            "dst_port": 23,
            "src_country": "CN",
            **fields,
        }
        if ":" in values["src_ip"]:
            values["ip_version"] = 6
        Event.objects.bulk_create([Event(**values) for _ in range(count)])

    return add
