import queue
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from events.ingest.devices import DeviceDirectory, DeviceProfile
from events.ingest.pipeline import IngestCounters, Received, handle_message
from events.ingest.writer import (
    STATEMENT_CHARS_MAX,
    BatchWriter,
    inline_inserts,
    sql_literal,
)
from events.models import Event, UnparsedMessage
from events.parsers.types import ParsedEvent
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
    device, data_dir, monkeypatch, caplog
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
    assert "database unavailable, retrying" in caplog.text
    assert "database available again" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_writer_gives_up_at_shutdown_and_hands_back_the_batch(
    device, data_dir, monkeypatch, caplog
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
    # Given up: no retry is announced, as none follows.
    assert "retrying" not in caplog.text


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


NASTY_TEXT = [
    "it's",
    "back\\slash",
    "\\'; DROP TABLE events_event; -- ",
    "nul\x00inside",
    "ctrl-z \x1a and %s %(name)s",
    "quote at end'",
    "\\",
    "日本語のルール 🔥",
    "\u202eevil bidi",
]


@pytest.mark.django_db
@pytest.mark.parametrize("text", NASTY_TEXT)
def test_text_from_the_network_comes_back_exactly(device, text):
    event = ParsedEvent(
        occurred_at=RECEIVED_AT,
        action="block",
        interface=text[:64],
        protocol="tcp",
        src_ip="198.51.100.1",
        dst_ip="2001:db8::1",
        rule=text[:64],
        hostname=text,
        extra={"reason": text, "huge": 2**70},
    )
    profile = DeviceProfile(device.pk, "auto", ZoneInfo("UTC"), True)
    item = Received(text.encode(), "127.0.0.1", "udp", RECEIVED_AT, profile, event)

    make_writer().write([item])

    stored = Event.objects.get()
    assert (stored.interface, stored.rule) == (text[:64], text[:64])
    assert stored.hostname == text
    assert stored.extra == {"reason": text, "huge": 2**70}
    assert (stored.src_ip, stored.dst_ip) == ("198.51.100.1", "2001:db8::1")


@pytest.mark.django_db
@settings(max_examples=300, deadline=None)
@given(
    value=st.one_of(
        st.text(st.characters(exclude_categories=("Cs",))),
        st.binary(max_size=32),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
        st.booleans(),
        st.none(),
    )
)
def test_sql_literal_reads_back_as_the_same_value(value):
    if connection.vendor != "mysql":
        pytest.skip("inline literals are used on MySQL/MariaDB only")

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {sql_literal(value)}")
        (answer,) = cursor.fetchone()

    if isinstance(value, bool):
        assert answer == int(value)
    elif isinstance(value, str):
        assert answer == value
    else:
        assert (bytes(answer) if isinstance(answer, bytearray) else answer) == value


def test_inline_inserts_cut_statements_below_the_size_limit():
    rows = [("x" * 1000, 1)] * 9000

    statements = list(inline_inserts("INSERT INTO t (a, b) VALUES ", rows))

    assert len(statements) == 3
    assert all(len(s) < STATEMENT_CHARS_MAX + 2000 for s in statements)
    assert sum(s.count("),(") + 1 for s in statements) == 9000


@pytest.mark.django_db(transaction=True)
def test_a_number_too_large_for_its_column_is_kept_as_unparsed(device, data_dir):
    good = parsed_items(pfsense_lines(data_dir)[:3], device.pk)
    huge = (
        b"<134>Jul  3 19:10:30 filterlog[1]: 5,,,0,igb0,match,block,in,4,0x0,,"
        b"64,1,0,none,17,udp,99999999999999999999999,198.51.100.1,203.0.113.7,"
        b"5000,53,50"
    )
    bad = parsed_items([huge], device.pk)[0]
    writer = make_writer()

    writer.write([good[0], bad, *good[1:]])

    assert Event.objects.count() == 3
    kept = UnparsedMessage.objects.get()
    assert kept.reason.startswith("length out of range")
    assert bytes(kept.raw) == huge


@pytest.mark.django_db(transaction=True)
def test_a_value_the_driver_cannot_bind_is_isolated_not_fatal(device, data_dir):
    items = parsed_items(pfsense_lines(data_dir)[:4], device.pk)
    items[2].result.extra = {}
    items[2].result.ip_version = 2**70
    writer = make_writer()

    writer.write(items)

    assert Event.objects.count() == 3
    assert UnparsedMessage.objects.get().reason.startswith("database refused")
