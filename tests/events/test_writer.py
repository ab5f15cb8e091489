import queue
import threading
import time
from contextlib import contextmanager
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


@contextmanager
def database_behind_proxy(monkeypatch):
    """Route new connections through a FaultProxy in front of MariaDB."""
    if connection.vendor != "mysql":
        pytest.skip("the outage is played by a TCP proxy in front of MariaDB")
    config = connection.settings_dict
    proxy = FaultProxy((config["HOST"] or "127.0.0.1", int(config["PORT"] or 3306)))
    monkeypatch.setitem(config, "HOST", proxy.address[0])
    monkeypatch.setitem(config, "PORT", str(proxy.address[1]))
    try:
        yield proxy
    finally:
        proxy.close()
        monkeypatch.undo()
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_writer_waits_out_a_database_outage_and_loses_nothing(
    device, data_dir, monkeypatch
):
    lines = pfsense_lines(data_dir)
    writer = make_writer()

    with database_behind_proxy(monkeypatch) as proxy:
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

    assert not thread.is_alive()
    assert Event.objects.count() == len(lines)
    assert writer.unwritten == []


@pytest.mark.django_db(transaction=True)
def test_writer_gives_up_at_shutdown_and_hands_back_the_batch(
    device, data_dir, monkeypatch
):
    items = parsed_items(pfsense_lines(data_dir), device.pk)
    writer = make_writer()
    writer.give_up.set()

    with database_behind_proxy(monkeypatch) as proxy:
        proxy.cut()
        thread = threading.Thread(
            target=lambda: (writer.write(items), connection.close())
        )
        thread.start()
        thread.join(timeout=30)

    assert writer.unwritten == items
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_extra_keeps_raw_values_the_normalization_changed(device):
    redirected = (
        b"<134>Jul  3 19:10:30 filterlog[1]: 146,,,0,igb0,match,rdr,in/out,4,0x0,,"
        b"63,1,0,DF,6,tcp,60,198.51.100.1,203.0.113.7,4000,80,0,S,1,,64240,,"
    )
    blocked = (
        b"<134>Jul  3 19:10:30 filterlog[1]: 146,,,0,igb0,match,block,in,4,0x0,,"
        b"63,1,0,DF,6,tcp,60,198.51.100.2,203.0.113.7,4000,23,0,S,1,,64240,,"
    )
    writer = make_writer()

    writer.write(parsed_items([redirected, blocked], device.pk))

    redirect = Event.objects.get(src_ip="198.51.100.1")
    block = Event.objects.get(src_ip="198.51.100.2")
    assert (redirect.action, redirect.direction) == ("", "")
    assert (redirect.extra["action"], redirect.extra["direction"]) == ("rdr", "in/out")
    assert "action" not in block.extra
    assert "tcp_ack" not in block.extra
