from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from events.models import Device, DeviceAddress, Event


@pytest.fixture(autouse=True)
def empty_cache():
    """Cached filter choices and device names must not leak between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def device(db) -> Device:
    device = Device.objects.create(name="gw", time_zone="Asia/Tokyo")
    DeviceAddress.objects.create(device=device, address="127.0.0.1")
    return device


@pytest.fixture
def make_event(device):
    def make(src_ip: str, dst_ip: str = "203.0.113.7", **fields) -> Event:
        moment = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
        values = {
            "occurred_at": moment,
            "received_at": moment,
            "device": device,
            "ip_version": 6 if ":" in src_ip else 4,
            "protocol": "tcp",
            "src_ip": src_ip,
            "dst_ip": dst_ip,
            **fields,
        }
        return Event.objects.create(**values)

    return make
