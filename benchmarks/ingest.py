"""Print fwsiem's ingest figures for the configured kind of database.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/ingest.py``). It
never touches your data: it migrates a scratch database beside the
configured one (``var/benchmark-ingest.sqlite3``, or ``<name>_bench_ingest``
on the same MySQL/MariaDB server), starts ``manage.py runsyslog`` as a child
process and sends to it from this process over loopback. Figures printed:

* parse microseconds per line for each envelope and shape family;
* TCP: N pfSense lines sent as fast as one connection takes them, until
  all are stored (sent, stored, events/s);
* UDP: a paced sender at R messages/s for S seconds (sent, stored, lost,
  the kernel's drop counter for the listener's socket);
* both at once: the same UDP sender for M seconds beside a TCP sender that
  sends as fast as it is read, more than the database takes, so the
  queue stays full (UDP sent, stored, lost; TCP sent and stored);
* the listener's peak resident memory (VmHWM).
"""

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.parse import interpreter, print_real_lines  # noqa: E402
from benchmarks.scratch import create_database, scratch_url, setup_django  # noqa: E402

TCP_TEMPLATE = (
    "<134>{stamp} filterlog[72237]: 146,,,1000000103,igb0,match,block,in,4,0x0,,"
    "{ttl},{ipid},0,DF,6,tcp,60,{src},203.0.113.7,{sport},{dport},0,S,"
    "1891286705,,64240,,mss;sackOK;TS;nop;wscale"
)
UDP_TEMPLATE = (
    "<134>{stamp} filterlog[72237]: 5,,,1000000103,igb0,match,block,in,4,0x0,,"
    "{ttl},{ipid},0,none,17,udp,132,{src},203.0.113.7,{sport},{dport},112"
)
PORTS = [23, 22, 80, 443, 445, 3389, 8080, 5555, 37215, 52869, 6881]


def make_lines(template: str, count: int) -> list[bytes]:
    rng = random.Random(7)
    lines = []
    for number in range(count):
        second = number % 60
        octets = [rng.randint(1, 223), rng.randint(0, 255), rng.randint(0, 255)]
        src = ".".join(map(str, [*octets, rng.randint(1, 254)]))
        line = template.format(
            stamp=f"Dec  3 12:{(number // 60) % 60:02d}:{second:02d}",
            ttl=rng.randint(30, 250),
            ipid=number % 65536,
            src=src,
            sport=rng.randint(1024, 65535),
            dport=rng.choice(PORTS),
        )
        lines.append(line.encode())
    return lines


def start_listener(env: dict) -> tuple[subprocess.Popen, tuple, tuple]:
    process = subprocess.Popen(
        [sys.executable, str(BASE_DIR / "manage.py"), "runsyslog"]
        + ["--udp", "127.0.0.1:0", "--tcp", "127.0.0.1:0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    endpoints = {}
    while len(endpoints) < 2:
        line = process.stdout.readline()
        if not line:
            raise SystemExit("the listener did not start")
        for kind in ("udp", "tcp"):
            if f"{kind}://" in line:
                host, port = line.strip().rsplit("//", 1)[1].rsplit(":", 1)
                endpoints[kind] = (host, int(port))
    return process, endpoints["tcp"], endpoints["udp"]


def wait_stored(target: int, stall_seconds: float = 15.0) -> tuple[int, float]:
    """Wait until ``target`` events are stored or progress stops.

    Returns the exact count and the moment the last row arrived. Progress
    is polled through the highest id, an index lookup: a ``COUNT(*)`` per
    poll costs the database server a scan of the growing table and would
    take CPU from the listener being measured.
    """
    from django.db.models import Max

    from events.models import Event

    last, last_change = -1, time.monotonic()
    while True:
        highest = Event.objects.aggregate(highest=Max("id"))["highest"] or 0
        now = time.monotonic()
        if highest != last:
            last, last_change = highest, now
        if highest >= target or now - last_change > stall_seconds:
            return Event.objects.count(), last_change
        time.sleep(0.05)


def send_tcp(address: tuple, lines: list[bytes]) -> None:
    payload = b"".join(line + b"\n" for line in lines)
    with socket.create_connection(address) as sock:
        sock.sendall(payload)


def send_udp_paced(address: tuple, lines: list[bytes], rate: int) -> float:
    """Send ``lines`` at ``rate`` per second; return the seconds taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    started = time.monotonic()
    tick = 0.01
    per_tick = max(1, int(rate * tick))
    for start in range(0, len(lines), per_tick):
        for line in lines[start : start + per_tick]:
            sock.sendto(line, address)
        due = started + (start + per_tick) / rate
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
    sock.close()
    return time.monotonic() - started


def kernel_drops(port: int) -> int:
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        columns = line.split()
        if int(columns[1].split(":")[1], 16) == port:
            return int(columns[-1])
    return 0


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def print_mixed(tcp_address: tuple, udp_address: tuple, options) -> None:
    """Send UDP at the paced rate while one TCP connection floods the queue.

    The TCP sender gets 40 000 lines per UDP second, more than the database
    takes in that time, so the writer is the limit throughout.
    """
    from events.models import Event

    udp_lines = make_lines(UDP_TEMPLATE, options.udp_rate * options.mixed_seconds)
    tcp_lines = make_lines(TCP_TEMPLATE, 40_000 * options.mixed_seconds)
    udp_before = Event.objects.filter(protocol="udp").count()
    tcp_before = Event.objects.filter(protocol="tcp").count()
    drops_before = kernel_drops(udp_address[1])

    flood = threading.Thread(target=send_tcp, args=(tcp_address, tcp_lines))
    flood.start()
    time.sleep(0.5)  # let the queue fill first
    send_udp_paced(udp_address, udp_lines, options.udp_rate)
    flood.join()
    wait_stored(udp_before + tcp_before + len(udp_lines) + len(tcp_lines), 5)

    udp_stored = Event.objects.filter(protocol="udp").count() - udp_before
    tcp_stored = Event.objects.filter(protocol="tcp").count() - tcp_before
    print(
        f"\nTCP at full speed and UDP at {options.udp_rate} msg/s together, "
        f"{options.mixed_seconds} s"
    )
    print(
        f"  UDP sent {len(udp_lines)}, stored {udp_stored}, "
        f"lost {len(udp_lines) - udp_stored} "
        f"(kernel socket drops {kernel_drops(udp_address[1]) - drops_before})"
    )
    print(f"  TCP sent {len(tcp_lines)}, stored {tcp_stored}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcp-lines", type=int, default=200_000)
    parser.add_argument("--udp-rate", type=int, default=10_000)
    parser.add_argument("--udp-seconds", type=int, default=20)
    parser.add_argument(
        "--mixed-seconds",
        type=int,
        default=10,
        help="seconds of UDP beside a full-speed TCP sender (0: skip)",
    )
    parser.add_argument("--parse-iterations", type=int, default=20_000)
    options = parser.parse_args()

    url = scratch_url(os.environ.get("FWSIEM_DATABASE_URL", ""), "ingest")
    create_database(url)
    setup_django(url)
    from django.db import connection

    from events.models import Device, DeviceAddress, Event
    from events.parsers import bench

    print(
        f"database: {connection.vendor} (scratch: {connection.settings_dict['NAME']})"
    )
    print(interpreter())
    print("\nparse, median microseconds per line")
    for family, micros in bench.run(options.parse_iterations):
        print(f"  {family:<40} {micros:6.2f} us")
    print_real_lines(bench.run_real_lines())

    device = Device.objects.create(name="benchmark", log_format="pfsense")
    DeviceAddress.objects.create(device=device, address="127.0.0.1")
    env = {**os.environ, "FWSIEM_VAR_DIR": str(BASE_DIR / "var" / "benchmark")}
    listener, tcp_address, udp_address = start_listener(env)
    try:
        tcp_lines = make_lines(TCP_TEMPLATE, options.tcp_lines)
        started = time.monotonic()
        send_tcp(tcp_address, tcp_lines)
        sent_seconds = time.monotonic() - started
        stored, finished = wait_stored(len(tcp_lines))
        seconds = finished - started
        print(f"\nTCP, one connection, {len(tcp_lines)} pfSense lines")
        print(
            f"  sent {len(tcp_lines)} in {sent_seconds:.1f} s, stored {stored}, "
            f"dropped {len(tcp_lines) - stored}"
        )
        print(f"  end to end: {stored / seconds:,.0f} events/s ({seconds:.1f} s)")

        udp_lines = make_lines(UDP_TEMPLATE, options.udp_rate * options.udp_seconds)
        before = Event.objects.count()
        drops_before = kernel_drops(udp_address[1])
        sent_seconds = send_udp_paced(udp_address, udp_lines, options.udp_rate)
        stored, _ = wait_stored(before + len(udp_lines), stall_seconds=5)
        stored -= before
        print(f"\nUDP, {options.udp_rate} msg/s for {options.udp_seconds} s")
        print(
            f"  sent {len(udp_lines)} in {sent_seconds:.1f} s "
            f"({len(udp_lines) / sent_seconds:,.0f}/s), stored {stored}, "
            f"lost {len(udp_lines) - stored} "
            f"(kernel socket drops {kernel_drops(udp_address[1]) - drops_before})"
        )

        if options.mixed_seconds:
            print_mixed(tcp_address, udp_address, options)

        print(f"\nlistener peak RSS: {peak_rss_mib(listener.pid):.0f} MiB")
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=60)


if __name__ == "__main__":
    main()
