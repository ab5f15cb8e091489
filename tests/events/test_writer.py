import queue
import threading
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from events.ingest.devices import DeviceDirectory, DeviceProfile
from events.ingest.pipeline import IngestCounters, handle_message
from events.ingest.writer import BatchWriter
from events.models import Event, UnparsedMessage
from tests.faultproxy import FaultProxy

RECEIVED_AT = datetime(2026, 7, 3, 12, 0, tzinfo=UTC)


def make_writer() -> BatchWriter:
    return BatchWriter(
        queue.Queue(),
        IngestCounters(),
        DeviceDirectory(),
        batch_size=100,
        flush_seconds=0.05,
    )


def parsed_items(lines: list[bytes], device_id: int) -> list:
    profile = DeviceProfile(device_id, "auto", ZoneInfo("UTC"), True)
    return [
        handle_message(
            line,
            peer="127.0.0.1",
            transport="udp",
            received_at=RECEIVED_AT,
            profile=profile,
        )
        for line in lines
    ]


def pfsense_lines(data_dir) -> list[bytes]:
    return (data_dir / "logs" / "pfsense-bsd.log").read_bytes().splitlines()


@pytest.mark.django_db(transaction=True)
def test_a_refused_row_is_kept_as_unparsed_and_the_rest_commits(device, data_dir):
    items = parsed_items(pfsense_lines(data_dir)[:9], device.pk)
    bad = parsed_items(pfsense_lines(data_dir)[9:10], 999_999)[0]
    items.insert(4, bad)
    writer = make_writer()

    writer.write(items)

    assert Event.objects.count() == 9
    refused = UnparsedMessage.objects.get()
    assert refused.reason.startswith("database refused")
    assert bytes(refused.raw) == bad.raw
    assert writer.counters.get("udp", "stored") == 10


@pytest.mark.django_db(transaction=True)
def test_writer_waits_out_a_database_outage_and_loses_nothing(
    device, data_dir, monkeypatch
):
    if connection.vendor != "mysql":
        pytest.skip("the outage is played by a TCP proxy in front of MariaDB")
    config = connection.settings_dict
    proxy = FaultProxy((config["HOST"] or "127.0.0.1", int(config["PORT"] or 3306)))
    monkeypatch.setitem(config, "HOST", proxy.address[0])
    monkeypatch.setitem(config, "PORT", str(proxy.address[1]))
    lines = pfsense_lines(data_dir)
    writer = make_writer()

    thread = threading.Thread(
        target=lambda: (
            writer.write(parsed_items(lines[:5], device.pk)),
            proxy.cut(),
            writer.write(parsed_items(lines[5:], device.pk)),
            connection.close(),
        )
    )
    thread.start()
    time.sleep(2)
    proxy.restore()
    thread.join(timeout=30)
    proxy.close()
    monkeypatch.undo()
    connection.close()

    assert not thread.is_alive()
    assert Event.objects.count() == len(lines)
    assert writer.unwritten == []


@pytest.mark.django_db(transaction=True)
def test_writer_gives_up_at_shutdown_and_hands_back_the_batch(
    device, data_dir, monkeypatch
):
    if connection.vendor != "mysql":
        pytest.skip("the outage is played by a TCP proxy in front of MariaDB")
    config = connection.settings_dict
    proxy = FaultProxy((config["HOST"] or "127.0.0.1", int(config["PORT"] or 3306)))
    monkeypatch.setitem(config, "HOST", proxy.address[0])
    monkeypatch.setitem(config, "PORT", str(proxy.address[1]))
    proxy.cut()
    items = parsed_items(pfsense_lines(data_dir), device.pk)
    writer = make_writer()
    writer.give_up.set()

    thread = threading.Thread(target=lambda: (writer.write(items), connection.close()))
    thread.start()
    thread.join(timeout=30)
    proxy.close()
    monkeypatch.undo()
    connection.close()

    assert writer.unwritten == items
    assert Event.objects.count() == 0
