"""The listener on real sockets (127.0.0.1, ephemeral ports) and a real DB."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from events.ingest.server import Endpoint, SyslogListener, bind_socket
from events.ingest.spool import write_spool
from events.models import Device, DeviceAddress, Event, UnparsedMessage

pytestmark = pytest.mark.django_db(transaction=True)

BASE_DIR = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 15
TLS_HELLO = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(32))


def wait_for(predicate, timeout: float = DEADLINE_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.fixture
def gateway() -> Device:
    device = Device.objects.create(name="gw", time_zone="America/Chicago")
    DeviceAddress.objects.create(device=device, address="127.0.0.1")
    return device


def make_listener(var_dir: Path, **overrides) -> SyslogListener:
    options = {
        "udp": [Endpoint("127.0.0.1", 0)],
        "tcp": [Endpoint("127.0.0.1", 0)],
        "var_dir": var_dir,
        "queue_size": 10_000,
        "batch_size": 500,
        "flush_seconds": 0.05,
        "max_message_bytes": 65_536,
        "udp_rcvbuf": 1 << 20,
    }
    return SyslogListener(**{**options, **overrides})


@pytest.fixture
def listener(gateway, tmp_path):
    server = make_listener(tmp_path)
    server.start()
    yield server
    server.stop()


def address_of(server: SyslogListener, kind: str) -> tuple[str, int]:
    sockets = server.udp_sockets if kind == "udp" else server.tcp_sockets
    return sockets[0].getsockname()[:2]


def send_udp(server, messages, source="127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((source, 0))
        for message in messages:
            sock.sendto(message, address_of(server, "udp"))


def send_tcp(server, payload: bytes) -> None:
    with socket.create_connection(address_of(server, "tcp")) as sock:
        sock.sendall(payload)


def unread_udp_socket(server: SyslogListener) -> socket.socket:
    """Open the listener's UDP socket without a thread reading it."""
    sock = server._open_udp(Endpoint("127.0.0.1", 0))
    server.udp_sockets.append(sock)
    return sock


def stop_then_read(
    server: SyslogListener,
    loop,
    sock: socket.socket,
    drain_seconds: float = DEADLINE_SECONDS,
) -> None:
    """Run a receiver ``loop`` on ``sock`` once the listener is stopping.

    Nothing was read from ``sock`` before: what it holds is what the
    shutdown drain reads (or counts, once ``drain_seconds`` are over).
    """
    server.drain_deadline = time.monotonic() + drain_seconds
    server.stopping.set()
    loop(sock)
    sock.close()


def sample_lines(data_dir, name: str) -> list[bytes]:
    return (data_dir / "logs" / name).read_bytes().splitlines()


def test_udp_lines_become_events_with_every_contract_field(listener, data_dir):
    lines = sample_lines(data_dir, "pfsense-bsd.log")

    send_udp(listener, lines)

    wait_for(lambda: Event.objects.count() == len(lines))
    event = Event.objects.filter(src_port=49724, dst_ip="1.1.1.1").earliest("id")
    assert event.device.name == "gw"
    assert event.action == "block"
    assert event.direction == "in"
    assert event.interface == "igb1.12"
    assert event.ip_version == 4
    assert event.protocol == "tcp"
    assert (event.src_ip, event.src_port) == ("10.170.12.50", 49724)
    assert event.dst_port == 853
    assert event.tcp_flags == "S"
    assert event.length == 60
    assert event.rule == "1535324496"
    assert (event.src_country, event.dst_country) == ("", "")
    # Jul  3 19:10:30 in America/Chicago (CDT, UTC-5), the year nearest now.
    assert event.occurred_at.astimezone(UTC).strftime("%m-%d %H:%M:%S") == (
        "07-04 00:10:30"
    )
    assert event.is_time_inferred is True
    assert event.received_at <= datetime.now(UTC)


def test_tcp_lf_and_octet_counted_frames_are_stored(listener, data_dir):
    lines = sample_lines(data_dir, "pfsense-rfc5424.log")
    half = len(lines) // 2
    lf_framed = b"".join(line + b"\n" for line in lines[:half])
    counted = b"".join(b"%d %s" % (len(line), line) for line in lines[half:])

    send_tcp(listener, lf_framed + counted)

    wait_for(lambda: Event.objects.count() == len(lines))
    event = Event.objects.get(extra__pid="72237", src_port=52797)
    assert event.hostname == "pfSense.example.com"
    assert event.occurred_at == datetime(2021, 7, 4, 0, 10, 14, 578333, tzinfo=UTC)
    assert (event.protocol, event.dst_port, event.length) == ("udp", 53, 69)
    assert event.is_time_inferred is False


def test_non_filter_lines_and_garbage_are_kept_and_the_listener_keeps_serving(
    listener, data_dir
):
    opnsense = sample_lines(data_dir, "opnsense-mixed.log")
    garbage = [TLS_HELLO, b"", b"<134>", b"\xff\xfe\x00 not utf-8", b"GET / HTTP/1.0"]

    send_udp(listener, garbage)
    send_tcp(listener, b"".join(line + b"\n" for line in opnsense))
    send_udp(listener, opnsense[:1])

    wait_for(lambda: Event.objects.count() == 5)
    wait_for(lambda: UnparsedMessage.objects.count() == len(garbage) + 2)
    raws = {bytes(row.raw) for row in UnparsedMessage.objects.all()}
    assert TLS_HELLO in raws
    assert b"\xff\xfe\x00 not utf-8" in raws
    assert any(b"dhcpd[40152]" in raw for raw in raws)
    assert all(row.reason for row in UnparsedMessage.objects.all())
    assert UnparsedMessage.objects.filter(device__name="gw").count() == len(raws)


def test_unknown_sender_becomes_a_new_device(listener, data_dir):
    send_udp(listener, sample_lines(data_dir, "pfsense-bsd.log")[:2], "127.0.0.2")

    wait_for(lambda: Event.objects.filter(device__name="127.0.0.2").count() == 2)
    device = Device.objects.get(name="127.0.0.2")
    assert device.log_format == "auto"
    assert list(device.addresses.values_list("address", flat=True)) == ["127.0.0.2"]
    assert device.last_seen_at is not None


def test_unknown_sender_is_counted_not_stored_when_refused(
    listener, data_dir, settings
):
    settings.ACCEPT_UNKNOWN_DEVICES = False

    send_udp(listener, sample_lines(data_dir, "pfsense-bsd.log")[:3], "127.0.0.3")
    send_udp(listener, sample_lines(data_dir, "pfsense-bsd.log")[:1])

    wait_for(lambda: Event.objects.count() == 1)
    wait_for(lambda: listener.counters.drop_reasons["unknown_sender"] == 3)
    assert not Device.objects.filter(name="127.0.0.3").exists()


def test_yamaha_rtx_lines_are_stored_in_the_device_time_zone(listener, data_dir):
    router = Device.objects.create(name="rtx1210", time_zone="Asia/Tokyo")
    DeviceAddress.objects.create(device=router, address="127.0.0.5")
    listener.directory.reload()
    lines = sample_lines(data_dir, "yamaha-rtx.log")
    sent_at = datetime.now(UTC)

    send_udp(listener, lines, "127.0.0.5")

    wait_for(lambda: Event.objects.filter(device=router).count() == 14)
    wait_for(lambda: UnparsedMessage.objects.filter(device=router).count() == 7)
    # [INSPECT] LAN2[out][101098] ... (2024/06/30 21:29:40): Tokyo, UTC+9.
    session = Event.objects.get(device=router, src_port=52802)
    assert session.occurred_at == datetime(2024, 6, 30, 12, 29, 40, tzinfo=UTC)
    assert (session.action, session.direction, session.rule) == (
        "pass",
        "out",
        "101098",
    )
    assert session.received_at >= sent_at - timedelta(seconds=1)
    assert session.extra["kind"] == "inspect"
    assert session.extra["session_seconds"] == int(
        (session.received_at - session.occurred_at).total_seconds()
    )
    # A bare filter line has no time of its own: it is dated on arrival.
    reject = Event.objects.get(device=router, src_port=44812, dst_port=3389)
    assert reject.occurred_at == reject.received_at
    assert (reject.interface, reject.action, reject.rule) == ("PP[01]", "block", "1012")
    assert reject.is_time_inferred is True
    # Behind a relay: "Jun 30 21:30:41" in Tokyo, the year nearest receipt.
    relayed = Event.objects.get(device=router, dst_port=445)
    assert relayed.occurred_at.strftime("%m-%d %H:%M:%S") == "06-30 12:30:41"
    assert relayed.hostname == "192.168.1.254"
    ipv6 = Event.objects.get(device=router, src_port=56609)
    assert (ipv6.src_ip, ipv6.dst_ip) == (
        "2001:db8:10:2::41",
        "2001:db8:4004:81a::200e",
    )
    reasons = set(
        UnparsedMessage.objects.filter(device=router).values_list("reason", flat=True)
    )
    assert "yamaha-rtx: MAC filter line (Ethernet addresses, no IP packet)" in reasons


def test_disabled_device_is_counted_not_stored(listener, gateway, data_dir):
    gateway.is_enabled = False
    gateway.save()
    listener.directory.reload()

    send_udp(listener, sample_lines(data_dir, "pfsense-bsd.log")[:4])

    wait_for(lambda: listener.counters.drop_reasons["disabled_device"] == 4)
    assert Event.objects.count() == 0


def test_spooled_messages_are_written_at_start_and_the_file_removed(
    gateway, data_dir, tmp_path
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")[:3]
    moment = datetime(2026, 7, 3, 0, 0, tzinfo=UTC)
    spool = write_spool(
        tmp_path, [(line, "127.0.0.1", "udp", moment) for line in lines]
    )
    server = make_listener(tmp_path, udp=[], tcp=[], queue_size=10, batch_size=10)

    server.start()
    server.stop()

    assert Event.objects.filter(device=gateway, received_at=moment).count() == 3
    assert not spool.exists()


def test_tcp_lines_already_sent_at_shutdown_are_read_and_stored(
    gateway, data_dir, tmp_path
):
    # A one-message queue holds the reader back, so most of the stream is
    # still in the kernel's buffers when the listener is told to stop.
    lines = sample_lines(data_dir, "pfsense-bsd.log") * 200
    server = make_listener(tmp_path, udp=[], queue_size=1)
    server.start()
    errors = []

    def send() -> None:
        try:
            send_tcp(server, b"".join(line + b"\n" for line in lines))
        except OSError as error:  # reset by a listener that stopped reading
            errors.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: Event.objects.exists())
    server.stop()
    sender.join(timeout=DEADLINE_SECONDS)

    assert errors == []
    assert Event.objects.count() == len(lines)
    assert server.counters.values["tcp", "dropped"] == 0


def test_tcp_data_still_unread_when_the_drain_ends_is_counted(
    gateway, data_dir, tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr("events.ingest.server.DRAIN_SECONDS", 0.2)
    line = sample_lines(data_dir, "pfsense-bsd.log")[0] + b"\n"
    server = make_listener(tmp_path, udp=[])
    server.start()
    connection = socket.create_connection(address_of(server, "tcp"))

    def flood() -> None:
        # Faster than the listener parses, until the listener closes.
        try:
            while True:
                connection.sendall(line * 1000)
        except OSError:
            pass

    sender = threading.Thread(target=flood)
    sender.start()
    wait_for(lambda: Event.objects.exists())
    server.stop()
    sender.join(timeout=DEADLINE_SECONDS)
    connection.close()

    dropped = server.counters.drop_reasons["unread_at_shutdown"]
    assert dropped >= 1
    assert server.counters.values["tcp", "dropped"] == dropped
    assert "with data unread" in caplog.text


def test_tcp_connection_waiting_to_be_accepted_at_shutdown_is_read(
    gateway, data_dir, tmp_path
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    server = make_listener(tmp_path, udp=[], tcp=[], queue_size=2)
    listening = bind_socket(Endpoint("127.0.0.1", 0), socket.SOCK_STREAM)
    listening.listen()
    server.tcp_sockets.append(listening)
    send_tcp(server, b"".join(line + b"\n" for line in lines))

    # The kernel completed the connection, and holds what was sent on it,
    # before the accept loop saw it: only the shutdown drain can read it.
    stop_then_read(server, server._accept_loop, listening)

    assert server.items.qsize() + len(server.overflow) == len(lines)
    assert server.counters.values["tcp", "dropped"] == 0


def test_datagrams_waiting_in_the_kernel_at_shutdown_are_read(
    gateway, data_dir, tmp_path
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    server = make_listener(tmp_path, udp=[], tcp=[], queue_size=2)
    sock = unread_udp_socket(server)
    send_udp(server, lines)

    # Only the shutdown drain can read them, and a full queue must not
    # drop them.
    stop_then_read(server, server._udp_loop, sock)

    assert server.items.qsize() + len(server.overflow) == len(lines)
    assert server.counters.values["udp", "dropped"] == 0


def test_datagrams_still_waiting_when_the_drain_ends_are_counted(
    gateway, data_dir, tmp_path, caplog
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    server = make_listener(tmp_path, udp=[], tcp=[])
    sock = unread_udp_socket(server)
    send_udp(server, lines)

    stop_then_read(server, server._udp_loop, sock, drain_seconds=0)

    assert server.items.qsize() == 0
    assert server.counters.drop_reasons["unread_at_shutdown"] == len(lines)
    assert server.counters.values["udp", "dropped"] == len(lines)
    assert f"count={len(lines)}" in caplog.text


def test_frames_before_a_bad_octet_count_are_kept_and_those_after_counted(
    listener, data_dir
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    bad = b"9999999999 <134>Jul  3 19:10:30 filterlog[1]: x"
    payload = b"".join(line + b"\n" for line in [*lines[:3], bad, *lines[3:8]])

    send_tcp(listener, payload)

    wait_for(lambda: listener.counters.drop_reasons["bad_frame"])
    wait_for(lambda: Event.objects.count() == 3)
    # The bad frame and the five lines behind it.
    assert listener.counters.drop_reasons["bad_frame"] == 6


def database_url() -> str:
    """Return a URL for the test database, for a listener in a subprocess."""
    config = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{config['NAME']}"
    user = quote(config["USER"] or "")
    password = f":{quote(config['PASSWORD'])}" if config["PASSWORD"] else ""
    host = config["HOST"] or "127.0.0.1"
    port = config["PORT"] or 3306
    return f"mysql://{user}{password}@{host}:{port}/{config['NAME']}"


def test_runsyslog_process_stores_what_it_read_and_exits_zero_on_sigterm(
    gateway, data_dir, tmp_path
):
    lines = sample_lines(data_dir, "pfsense-bsd.log")
    env = {
        **os.environ,
        "FWSIEM_DATABASE_URL": database_url(),
        "FWSIEM_VAR_DIR": str(tmp_path),
        "FWSIEM_INGEST_FLUSH_MS": "50",
    }
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "runsyslog"]
        + ["--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = [process.stdout.readline(), process.stdout.readline()]
        tcp = next(line for line in banner if "tcp://" in line)
        host, port = tcp.strip().rsplit("//", 1)[1].rsplit(":", 1)
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(b"".join(line + b"\n" for line in lines))
        wait_for(lambda: Event.objects.count() == len(lines))
    finally:
        process.send_signal(signal.SIGTERM)
        output, errors = process.communicate(timeout=DEADLINE_SECONDS)

    assert process.returncode == 0, errors
    assert "Stopped." in output
    assert f"stored={len(lines)}" in output


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to take CAP_NET_BIND_SERVICE away",
)
def test_runsyslog_on_port_514_without_the_capability_says_how_to_allow_it(
    tmp_path,
):
    env = {
        **os.environ,
        "FWSIEM_DATABASE_URL": database_url(),
        "FWSIEM_VAR_DIR": str(tmp_path),
    }
    drop = ["--bounding-set=-net_bind_service", "--inh-caps=-net_bind_service"]

    result = subprocess.run(
        ["setpriv", *drop, sys.executable, str(BASE_DIR / "manage.py"), "runsyslog"]
        + ["--udp", "0.0.0.0:514", "--no-tcp"],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )

    assert result.returncode == 1
    assert "Permission denied" in result.stderr
    assert "CAP_NET_BIND_SERVICE" in result.stderr


@pytest.mark.django_db(transaction=True)
def test_idle_connections_are_closed_so_a_real_sender_gets_in(
    gateway, tmp_path, data_dir
):
    line = sample_lines(data_dir, "pfsense-bsd.log")[0]
    server = make_listener(tmp_path, tcp_max_connections=2, tcp_idle_seconds=1)
    server.start()
    try:
        idle = [socket.create_connection(address_of(server, "tcp")) for _ in range(2)]
        time.sleep(0.3)
        refused = socket.create_connection(address_of(server, "tcp"))
        wait_for(lambda: server.counters.get("tcp", "dropped") == 1)

        # The idle holders are closed after a second: recv sees the end.
        for sock in idle:
            sock.settimeout(5)
            assert sock.recv(1) == b""
        send_tcp(server, line + b"\n")

        wait_for(lambda: Event.objects.count() == 1)
        assert server.counters.drop_reasons == {"too_many_connections": 1}
    finally:
        for sock in [*idle, refused]:
            sock.close()
        server.stop()
