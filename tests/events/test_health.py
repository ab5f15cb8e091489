"""Ingest health: rows written by a real listener, and what they mean."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from events.health import State, device_health
from events.ingest.pipeline import IngestCounters
from events.models import Device, Event, IngestMinute, ListenerMinute
from tests.events.test_listener import (
    TLS_HELLO,
    make_listener,
    sample_lines,
    send_udp,
    wait_for,
)

NOW = datetime(2026, 12, 3, 12, 30, tzinfo=UTC)


def totals(**filters) -> dict[str, int]:
    fields = ["received", "parsed", "unparsed", "stored", "dropped"]
    found = IngestMinute.objects.filter(**filters).aggregate(
        **{name: Sum(f"{name}_count") for name in fields}
    )
    return {name: found[name] or 0 for name in fields}


@pytest.fixture
def gateway() -> Device:
    device = Device.objects.create(name="gw", time_zone="America/Chicago")
    device.addresses.create(address="127.0.0.1")
    return device


@pytest.fixture
def fast_listener(gateway, tmp_path):
    server = make_listener(tmp_path, health_seconds=0.2)
    server.start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_listener_writes_minute_counts_per_device_while_running(
    fast_listener, gateway, data_dir
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")

    send_udp(fast_listener, lines + [TLS_HELLO])

    expected = {
        "received": len(lines) + 1,
        "parsed": len(lines),
        "unparsed": 1,
        "stored": len(lines) + 1,
        "dropped": 0,
    }
    wait_for(lambda: totals(device=gateway) == expected)
    socket = wait_for(lambda: ListenerMinute.objects.first())
    host, port = fast_listener.udp_sockets[0].getsockname()[:2]
    assert socket.endpoint == f"udp://{host}:{port}"
    assert socket.receive_buffer_bytes >= 1 << 20
    assert socket.kernel_drop_count == 0
    minute = IngestMinute.objects.filter(device=gateway).first().minute
    assert (minute.second, minute.microsecond) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_counts_left_at_shutdown_are_written_by_stop(gateway, data_dir, tmp_path):
    server = make_listener(tmp_path, health_seconds=60)
    server.start()
    lines = sample_lines(data_dir, "pfsense-bsd.log")[:5]
    send_udp(server, lines)
    wait_for(lambda: Event.objects.count() == 5)

    server.stop()

    assert totals(device=gateway)["stored"] == 5
    assert ListenerMinute.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_disabled_device_is_counted_in_health_not_stored(
    fast_listener, gateway, data_dir
):
    gateway.is_enabled = False
    gateway.save()
    fast_listener.directory.reload()

    send_udp(fast_listener, sample_lines(data_dir, "pfsense-bsd.log")[:4])

    wait_for(lambda: totals(device=gateway)["dropped"] == 4)
    assert totals(device=gateway) == {
        "received": 4,
        "parsed": 0,
        "unparsed": 0,
        "stored": 0,
        "dropped": 4,
    }
    assert Event.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_refused_unknown_senders_are_pooled_under_no_device(
    fast_listener, data_dir, settings
):
    settings.ACCEPT_UNKNOWN_DEVICES = False

    send_udp(fast_listener, sample_lines(data_dir, "pfsense-bsd.log")[:3], "127.0.0.3")

    wait_for(lambda: totals(device__isnull=True)["dropped"] == 3)
    assert totals(device__isnull=True)["received"] == 3
    assert not Device.objects.filter(name="127.0.0.3").exists()


@pytest.mark.django_db(transaction=True)
def test_a_new_senders_first_messages_count_for_the_device_created_for_it(
    fast_listener, data_dir
):
    send_udp(fast_listener, sample_lines(data_dir, "pfsense-bsd.log")[:2], "127.0.0.2")

    wait_for(lambda: Device.objects.filter(name="127.0.0.2").exists())
    device = Device.objects.get(name="127.0.0.2")
    wait_for(lambda: totals(device=device)["stored"] == 2)
    assert totals(device=device)["received"] == 2
    assert totals(device__isnull=True)["received"] == 0


def test_counters_keep_per_device_counts_until_taken():
    counters = IngestCounters()

    counters.refuse("udp", "disabled_device", 7)
    counters.refuse("udp", "unknown_sender", None)
    counters.drop("tcp", "bad_frame", key="192.0.2.1")
    taken = counters.take_minute_counts()

    assert taken == {
        7: [1, 0, 0, 0, 1],
        None: [1, 0, 0, 0, 1],
        "192.0.2.1": [0] * 4 + [1],
    }
    assert counters.take_minute_counts() == {}
    assert counters.get("udp", "received") == 2


def minutes(device, start: datetime, hours: int, per_hour: int) -> None:
    """Store ``per_hour`` messages in the first minute of each hour."""
    IngestMinute.objects.bulk_create(
        IngestMinute(
            device=device,
            minute=start + timedelta(hours=hour),
            received_count=per_hour,
            parsed_count=per_hour,
            stored_count=per_hour,
        )
        for hour in range(hours)
    )


@pytest.fixture
def busy(db) -> Device:
    """A device that sent 100 messages an hour for the day before NOW."""
    device = Device.objects.create(name="busy", last_seen_at=NOW - timedelta(minutes=1))
    minutes(device, NOW.replace(minute=0) - timedelta(hours=26), 25, 100)
    return device


def test_a_device_heard_recently_at_its_usual_rate_is_ok(busy):
    IngestMinute.objects.create(
        device=busy, minute=NOW - timedelta(minutes=5), received_count=60
    )

    health = device_health([busy], NOW)[0]

    assert health.state == State.OK
    assert health.baseline_per_hour == 100
    assert health.hour_received == 60


def test_a_sharp_rate_drop_is_flagged(busy):
    IngestMinute.objects.create(
        device=busy, minute=NOW - timedelta(minutes=5), received_count=19
    )

    assert device_health([busy], NOW)[0].state == State.RATE_DROP


def test_a_quiet_device_is_not_flagged_for_a_drop(db):
    quiet = Device.objects.create(name="quiet", last_seen_at=NOW)
    minutes(quiet, NOW.replace(minute=0) - timedelta(hours=26), 25, 5)

    assert device_health([quiet], NOW)[0].state == State.OK


def test_silence_longer_than_the_threshold_is_flagged(db):
    silent = Device.objects.create(
        name="silent", last_seen_at=NOW - timedelta(minutes=16)
    )
    patient = Device.objects.create(
        name="patient",
        last_seen_at=NOW - timedelta(minutes=16),
        silent_after_minutes=60,
    )
    unwatched = Device.objects.create(
        name="unwatched", last_seen_at=NOW - timedelta(days=3), silent_after_minutes=0
    )

    states = [h.state for h in device_health([silent, patient, unwatched], NOW)]

    assert states == [State.SILENT, State.OK, State.OK]


def test_never_heard_and_disabled_devices_are_not_problems(db):
    new = Device.objects.create(name="new")
    off = Device.objects.create(
        name="off", is_enabled=False, last_seen_at=NOW - timedelta(days=1)
    )

    found = device_health([new, off], NOW)

    assert [h.state for h in found] == [State.NEVER, State.DISABLED]
    assert not any(h.is_problem for h in found)


def test_unparsed_share_counts_the_last_24_hours(db):
    device = Device.objects.create(name="gw", last_seen_at=NOW)
    IngestMinute.objects.create(
        device=device,
        minute=NOW - timedelta(hours=2),
        parsed_count=30,
        unparsed_count=10,
    )
    IngestMinute.objects.create(
        device=device, minute=NOW - timedelta(hours=30), unparsed_count=500
    )

    assert device_health([device], NOW)[0].unparsed_share == 0.25


@pytest.mark.django_db
def test_ingeststatus_prints_a_row_per_device_and_fails_check_when_silent():
    now = datetime.now(UTC)
    Device.objects.create(name="quiet-gw", last_seen_at=now - timedelta(hours=2))
    ok = Device.objects.create(name="busy-gw", last_seen_at=now)
    IngestMinute.objects.create(
        device=ok,
        minute=now - timedelta(minutes=3),
        parsed_count=9,
        unparsed_count=1,
        received_count=10,
    )
    out = StringIO()

    call_command("ingeststatus", stdout=out)
    with pytest.raises(CommandError, match="quiet-gw"):
        call_command("ingeststatus", "--check", stdout=StringIO())

    lines = out.getvalue().splitlines()
    quiet = next(line for line in lines if line.startswith("quiet-gw"))
    busy = next(line for line in lines if line.startswith("busy-gw"))
    assert "silent" in quiet
    assert "2 hours ago" in quiet
    assert "receiving" in busy
    assert busy.split()[-5:] == ["10", "10", "10.0", "%", "0"]
    assert "Latest listener report:" in out.getvalue()


@pytest.mark.django_db
def test_ingeststatus_check_passes_when_all_devices_are_fine():
    Device.objects.create(name="gw", last_seen_at=datetime.now(UTC))

    call_command("ingeststatus", "--check", stdout=StringIO())
