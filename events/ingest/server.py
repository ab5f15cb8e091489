"""The syslog listener: UDP and TCP receivers feeding one batch writer.

Each UDP socket is read by a plain blocking loop in its own thread (an
asyncio datagram endpoint loses most datagrams at firewall rates, see
DESIGN.md); each TCP connection gets a thread. Receivers parse, then hand
messages to a bounded queue. TCP stops reading when the queue holds a
fifth of what it may (the sender waits, nothing is lost); the rest is kept
for UDP, which cannot be slowed and drops and counts only when the queue
is full.

At shutdown every receiver first reads what its socket already holds:
datagrams the kernel accepted, bytes a TCP sender has handed over,
connections waiting to be accepted. Only what is still unread after
``DRAIN_SECONDS`` is lost, and TCP counts it.
"""

import fcntl
import ipaddress
import logging
import os
import queue
import socket
import struct
import termios
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.utils.translation import gettext as _

from events.ingest.devices import DeviceDirectory, normalize_peer
from events.ingest.framing import FramingError, StreamDeframer
from events.ingest.health import HealthRecorder, SocketSample, minute_of
from events.ingest.pipeline import (
    IngestCounters,
    IngestQueue,
    Received,
    device_key,
    handle_message,
)
from events.ingest.spool import read_spool, spooled_files, write_spool
from events.ingest.writer import BatchWriter
from events.parsers.types import ParseFailure

logger = logging.getLogger(__name__)

UDP_READ_BYTES = 65_535  # the largest UDP payload, so nothing is cut
POLL_SECONDS = 0.5
# At shutdown, receivers read what their sockets hold for at most this
# long; a socket that stays quiet this long holds nothing more.
DRAIN_SECONDS = 2.0
DRAIN_QUIET_SECONDS = 0.1
# Refused TCP connections are logged at most this often, with a count.
REFUSAL_LOG_SECONDS = 60.0


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An address and port to listen on: ``0.0.0.0:514``, ``[::]:5514``."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> "Endpoint":
        """Parse ``HOST:PORT`` (IPv6 in brackets); raise ValueError."""
        host, sep, port = text.strip().rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(_("expected ADDRESS:PORT, got %(text)r") % {"text": text})
        host = host.removeprefix("[").removesuffix("]")
        ipaddress.ip_address(host)
        return cls(host, int(port))

    @property
    def family(self) -> socket.AddressFamily:
        return socket.AF_INET6 if ":" in self.host else socket.AF_INET

    def __str__(self) -> str:
        return format_endpoint(self.host, self.port)


def format_endpoint(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_socket(endpoint: Endpoint, kind: int) -> socket.socket:
    """Create and bind a socket; ``[::]`` also accepts IPv4 (dual stack)."""
    sock = socket.socket(endpoint.family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if endpoint.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind((endpoint.host, endpoint.port))
    return sock


def udp_socket_drops(sock: socket.socket) -> int | None:
    """Return the kernel's drop count for this UDP socket, or None.

    Read from the ``drops`` column of /proc/net/udp or udp6, matched by the
    socket's inode: these are datagrams the kernel discarded because the
    receive buffer was full, which the application never sees.
    """
    inode = str(os.fstat(sock.fileno()).st_ino)
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            columns = line.split()
            if len(columns) >= 13 and columns[9] == inode:
                return int(columns[-1])
    return None


class SyslogListener:
    """Own the sockets, the receiver threads and the writer thread.

    Call ``start`` (binds, raises OSError when a port is taken), then
    ``stop`` from any thread; ``stop`` returns after the queue is written
    or, if the database stays away past ``shutdown_seconds``, spooled.
    """

    def __init__(
        self,
        *,
        udp: list[Endpoint],
        tcp: list[Endpoint],
        var_dir: Path,
        queue_size: int,
        queue_bytes: int = 128 * 1024 * 1024,
        batch_size: int,
        flush_seconds: float,
        max_message_bytes: int,
        udp_rcvbuf: int,
        tcp_max_connections: int = 512,
        tcp_idle_seconds: float = 900.0,
        shutdown_seconds: float = 20.0,
        health_seconds: float = 60.0,
        health_retention_days: int = 90,
    ) -> None:
        self.udp_endpoints = udp
        self.tcp_endpoints = tcp
        self.var_dir = var_dir
        self.max_message_bytes = max_message_bytes
        self.udp_rcvbuf = udp_rcvbuf
        self.shutdown_seconds = shutdown_seconds
        self.counters = IngestCounters()
        self.directory = DeviceDirectory()
        self.items = IngestQueue(queue_size, queue_bytes)
        self.writer = BatchWriter(
            self.items,
            self.counters,
            self.directory,
            batch_size=batch_size,
            flush_seconds=flush_seconds,
        )
        self.stopping = threading.Event()
        self.drain_deadline = float("inf")
        self.udp_sockets: list[socket.socket] = []
        self.tcp_sockets: list[socket.socket] = []
        self.threads: list[threading.Thread] = []
        self.tcp_idle_seconds = tcp_idle_seconds
        self.connections = threading.BoundedSemaphore(tcp_max_connections)
        self.refused_since_log = 0
        self.refusal_logged_at = float("-inf")
        self.rcvbuf_effective: int | None = None
        self.last_kernel_drops = 0
        self.overflow: list[Received] = []
        self.overflow_lock = threading.Lock()
        self.health = HealthRecorder(
            self.counters,
            self.directory,
            sample_sockets=self.socket_samples,
            queue_depth=self.items.qsize,
            interval=health_seconds,
            retention_days=health_retention_days,
        )

    # Start and stop

    def start(self) -> None:
        self.directory.reload()
        self.replay_spool()
        for endpoint in self.udp_endpoints:
            self.udp_sockets.append(self._open_udp(endpoint))
        for endpoint in self.tcp_endpoints:
            sock = bind_socket(endpoint, socket.SOCK_STREAM)
            sock.listen(128)
            sock.settimeout(POLL_SECONDS)
            self.tcp_sockets.append(sock)

        for sock in self.udp_sockets:
            self._spawn(self._udp_loop, sock, name="udp")
        for sock in self.tcp_sockets:
            self._spawn(self._accept_loop, sock, name="tcp-accept")
        self.writer_thread = threading.Thread(
            target=self.writer.run, name="writer", daemon=True
        )
        self.writer_thread.start()
        self.health_thread = threading.Thread(
            target=self.health.run, name="health", daemon=True
        )
        self.health_thread.start()
        for address in self.bound_addresses():
            logger.info("listener started addr=%s", address)

    def bound_addresses(self) -> list[str]:
        """Return the bound ``udp://host:port`` and ``tcp://host:port``."""
        found = []
        for kind, sockets in (("udp", self.udp_sockets), ("tcp", self.tcp_sockets)):
            for sock in sockets:
                host, port = sock.getsockname()[:2]
                found.append(f"{kind}://{format_endpoint(host, port)}")
        return found

    def stop(self) -> None:
        """Read what the sockets hold, write it, and spool what cannot be."""
        self.drain_deadline = time.monotonic() + DRAIN_SECONDS
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=5)
        self.health.stop.set()
        self.health_thread.join(timeout=self.shutdown_seconds)
        self.kernel_drops()
        # The sockets' kernel counters vanish when they are closed.
        self.health.record_sockets(minute_of(datetime.now(UTC)))
        for sock in self.udp_sockets + self.tcp_sockets:
            sock.close()

        self.writer.stop.set()
        self.writer_thread.join(timeout=self.shutdown_seconds)
        if self.writer_thread.is_alive():
            logger.error("database still unavailable at shutdown; spooling")
            self.writer.give_up.set()
            self.writer_thread.join(timeout=30)
        elif self.overflow:
            # Messages read while the queue was full during shutdown.
            deadline = threading.Timer(self.shutdown_seconds, self.writer.give_up.set)
            deadline.start()
            with self.overflow_lock:
                overflow, self.overflow = self.overflow, []
            self.writer.write(overflow)
            deadline.cancel()
        self._spool_leftovers()
        self.health.flush(minute_of(datetime.now(UTC)), final=True)
        logger.info("listener stopped %s", self.summary())

    def summary(self) -> str:
        """Return the counters as one line, with kernel UDP drops."""
        return (
            f"{self.counters.summary()} | kernel_udp_drops={self.kernel_drops()} "
            f"queue={self.items.qsize()}"
        )

    def kernel_drops(self) -> int:
        """Return the kernel's UDP drops on our sockets (kept after close)."""
        open_sockets = [sock for sock in self.udp_sockets if sock.fileno() != -1]
        if open_sockets:
            counts = [udp_socket_drops(sock) for sock in open_sockets]
            self.last_kernel_drops = sum(c for c in counts if c is not None)
        return self.last_kernel_drops

    def socket_samples(self) -> list[SocketSample]:
        """Read each open UDP socket's kernel drops and receive buffer."""
        samples = []
        for sock in self.udp_sockets:
            if sock.fileno() == -1:
                continue
            host, port = sock.getsockname()[:2]
            samples.append(
                SocketSample(
                    f"udp://{format_endpoint(host, port)}",
                    udp_socket_drops(sock) or 0,
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                )
            )
        return samples

    def _spawn(self, target, *args, name: str) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def _spool_leftovers(self) -> None:
        leftovers = list(self.writer.unwritten)
        with self.overflow_lock:
            leftovers.extend(self.overflow)
        while True:
            try:
                leftovers.append(self.items.get_nowait())
            except queue.Empty:
                break
        records = [(i.raw, i.peer, i.transport, i.received_at) for i in leftovers]
        write_spool(self.var_dir, records)

    def replay_spool(self) -> None:
        """Write messages spooled at an earlier shutdown, then delete them."""
        for path in spooled_files(self.var_dir):
            batch = []
            for raw, peer, transport, received_at in read_spool(path):
                profile = self.directory.lookup(peer) if peer else None
                profile = profile or self.directory.unknown_profile
                item = handle_message(
                    raw,
                    peer=peer,
                    transport=transport,
                    received_at=received_at,
                    profile=profile,
                )
                batch.append(item)
            self.writer.write(batch)
            path.unlink()
            logger.info("replayed spool rows=%d path=%s", len(batch), path)

    # UDP

    def _open_udp(self, endpoint: Endpoint) -> socket.socket:
        sock = bind_socket(endpoint, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.udp_rcvbuf)
        # The kernel doubles the request and caps it at net.core.rmem_max.
        effective = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        self.rcvbuf_effective = effective
        if effective < self.udp_rcvbuf:
            logger.warning(
                "UDP receive buffer smaller than requested requested=%d "
                "effective=%d; raise net.core.rmem_max to avoid drops in bursts",
                self.udp_rcvbuf,
                effective,
            )
        sock.settimeout(POLL_SECONDS)
        return sock

    def _udp_loop(self, sock: socket.socket) -> None:
        """Read datagrams until shutdown, then those the socket still holds.

        A full queue drops a datagram while running; at shutdown it is kept
        for the writer instead, as the sender can no longer be slowed.
        """
        peers: dict[str, str] = {}
        while not self.stopping.is_set():
            try:
                data, address = sock.recvfrom(UDP_READ_BYTES)
            except TimeoutError:
                continue
            except OSError:
                return
            self._datagram(data, address, peers)

        sock.settimeout(DRAIN_QUIET_SECONDS)
        while time.monotonic() < self.drain_deadline:
            try:
                data, address = sock.recvfrom(UDP_READ_BYTES)
            except OSError:  # TimeoutError included: nothing more is waiting.
                return
            self._datagram(data, address, peers)

        # Still arriving after the deadline: what the socket holds now is
        # counted, not parsed; what comes after it is the sender's loss.
        unread = _discard_datagrams(sock)
        if unread:
            self.counters.drop("udp", "unread_at_shutdown", unread)
            host, port = sock.getsockname()[:2]
            logger.warning(
                "stopped reading UDP at shutdown with datagrams unread "
                "addr=%s count=%d",
                format_endpoint(host, port),
                unread,
            )

    def _datagram(self, data: bytes, address: tuple, peers: dict[str, str]) -> None:
        received_at = datetime.now(UTC)
        peer = peers.get(address[0]) or peers.setdefault(
            address[0], normalize_peer(address[0])
        )
        for item in self._receive([data], peer, "udp", received_at):
            if self.stopping.is_set():
                self._put_waiting(item)
                continue
            try:
                self.items.put_nowait(item)
            except queue.Full:
                self.counters.drop("udp", "queue_full", key=device_key(item))

    def _receive(
        self, messages: list[bytes], peer: str, transport: str, received_at: datetime
    ) -> list[Received]:
        """Count and parse messages that arrived together from ``peer``.

        Returns nothing when the sender is refused. Refused unknown senders
        are counted under no device (one pooled figure), a disabled
        device's messages under that device.
        """
        profile = self.directory.lookup(peer)
        if profile is None:
            self.counters.refuse(transport, "unknown_sender", None, len(messages))
            return []
        if not profile.is_enabled:
            self.counters.refuse(
                transport, "disabled_device", profile.device_id, len(messages)
            )
            return []

        items = [
            handle_message(
                data,
                peer=peer,
                transport=transport,
                received_at=received_at,
                profile=profile,
            )
            for data in messages
        ]
        self.counters.count_received(transport, items)
        return items

    # TCP

    def _accept_loop(self, server: socket.socket) -> None:
        """Accept connections until shutdown, then read those still waiting.

        A connection the kernel completed before shutdown may already hold
        messages; it is read to its end here, in this thread.
        """
        while not self.stopping.is_set():
            try:
                conn, address = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not self.connections.acquire(blocking=False):
                self._refuse_connection(conn, address)
                continue
            self._spawn(self._tcp_connection, conn, address, name="tcp-conn")

        server.settimeout(0)
        while time.monotonic() < self.drain_deadline:
            try:
                conn, address = server.accept()
            except OSError:  # BlockingIOError included: none is waiting.
                return
            if self.connections.acquire(blocking=False):
                self._tcp_connection(conn, address)
            else:
                self._refuse_connection(conn, address)

    def _refuse_connection(self, conn: socket.socket, address: tuple) -> None:
        """Close a connection over the limit; count it, warn once a minute."""
        conn.close()
        self.counters.drop(
            "tcp", "too_many_connections", key=normalize_peer(address[0])
        )
        self.refused_since_log += 1
        now = time.monotonic()
        if now - self.refusal_logged_at >= REFUSAL_LOG_SECONDS:
            logger.warning(
                "too many TCP connections, refused=%d last_peer=%s; raise "
                "FWSIEM_INGEST_TCP_MAX_CONNECTIONS if these are real senders",
                self.refused_since_log,
                address[0],
            )
            self.refused_since_log = 0
            self.refusal_logged_at = now

    def _tcp_connection(self, conn: socket.socket, address: tuple) -> None:
        """Read one sender's stream until it closes, idles out or we stop.

        A connection that brings nothing for ``tcp_idle_seconds`` is closed
        so that idle holders cannot keep real senders out; a syslog sender
        reconnects when it next has something to say. At shutdown the
        stream is read until it is quiet (see ``_drain_stream``).
        """
        peer = normalize_peer(address[0])
        deframer = StreamDeframer(self.max_message_bytes)
        try:
            if self._read_stream(conn, deframer, peer):
                self._drain_stream(conn, deframer, peer)
        except FramingError as error:
            # The bad frame and what was sent behind it are lost; counted as
            # one message per line end among the bytes already here.
            waiting, lines = _unread(conn)
            lines += deframer.buffer.count(b"\n")
            logger.warning(
                "closing connection peer=%s error=%s unread_bytes=%d",
                peer,
                error,
                len(deframer.buffer) + waiting,
            )
            self.counters.drop("tcp", "bad_frame", max(1, lines), key=peer)
        except OSError as error:
            logger.info("connection ended peer=%s error=%s", peer, error)
        finally:
            conn.close()
            self.connections.release()

    def _read_stream(
        self, conn: socket.socket, deframer: StreamDeframer, peer: str
    ) -> bool:
        """Read frames until the stream ends; return True when stopping."""
        conn.settimeout(POLL_SECONDS)
        last_data = time.monotonic()
        while not self.stopping.is_set():
            try:
                chunk = conn.recv(65_536)
            except TimeoutError:
                if time.monotonic() - last_data > self.tcp_idle_seconds:
                    logger.info("closing idle connection peer=%s", peer)
                    self._tcp_messages(deframer.finish(), peer)
                    return False
                continue
            last_data = time.monotonic()
            if not chunk:
                self._tcp_messages(deframer.finish(), peer)
                return False
            self._feed(deframer, chunk, peer)
        return True

    def _drain_stream(
        self, conn: socket.socket, deframer: StreamDeframer, peer: str
    ) -> None:
        """Read, at shutdown, what the sender has already handed over.

        Reads until the stream ends, stays quiet for DRAIN_QUIET_SECONDS or
        the drain deadline passes; a frame left incomplete is kept as it
        is, as when a sender closes mid-frame. Bytes still waiting after
        that are lost: they are counted as dropped, one message per line
        end among them (at least one), and logged.
        """
        conn.settimeout(DRAIN_QUIET_SECONDS)
        while time.monotonic() < self.drain_deadline:
            try:
                chunk = conn.recv(65_536)
            except TimeoutError:
                break
            if not chunk:
                break
            self._feed(deframer, chunk, peer)
        self._tcp_messages(deframer.finish(), peer)

        waiting, lines = _unread(conn)
        if waiting:
            self.counters.drop("tcp", "unread_at_shutdown", max(1, lines), key=peer)
            logger.warning(
                "closing connection at shutdown with data unread peer=%s bytes=%d",
                peer,
                waiting,
            )

    def _feed(self, deframer: StreamDeframer, chunk: bytes, peer: str) -> None:
        """Queue the frames ``chunk`` completes; raise the framing error after.

        Frames before a bad one are kept even when the bad one ends the
        connection.
        """
        self._tcp_messages(deframer.feed(chunk), peer)
        self._tcp_truncated(deframer, peer)
        if deframer.error is not None:
            raise deframer.error

    def _tcp_messages(self, messages: list[bytes], peer: str) -> None:
        """Parse and queue the frames completed by one read of the socket.

        They arrived together, so they share one receive time.
        """
        if not messages:
            return
        for item in self._receive(messages, peer, "tcp", datetime.now(UTC)):
            self._put_waiting(item)

    def _tcp_truncated(self, deframer: StreamDeframer, peer: str) -> None:
        """Keep the first bytes of each oversize frame as unparsed."""
        for cut in deframer.truncated:
            profile = self.directory.lookup(peer) or self.directory.unknown_profile
            reason = f"message longer than {self.max_message_bytes} bytes; cut"
            item = Received(
                cut, peer, "tcp", datetime.now(UTC), profile, ParseFailure(reason)
            )
            self.counters.count_received("tcp", [item])
            self._put_waiting(item)
        deframer.truncated.clear()

    def _put_waiting(self, item: Received) -> None:
        """Queue ``item``, waiting while the queue is above TCP's share.

        Once stopping, a full queue sends ``item`` to the overflow list at
        once, which the shutdown writes after the queue.
        """
        if self.stopping.is_set():
            try:
                self.items.put_nowait(item)
            except queue.Full:
                with self.overflow_lock:
                    self.overflow.append(item)
            return
        while True:
            try:
                self.items.put_yielding(item, timeout=POLL_SECONDS)
                return
            except queue.Full:
                if self.stopping.is_set():
                    # The writer may be waiting for the database: keep the
                    # message for the spool instead of blocking shutdown.
                    with self.overflow_lock:
                        self.overflow.append(item)
                    return


def _unread(conn: socket.socket) -> tuple[int, int]:
    """Return the received bytes ``conn`` holds unread, and their line ends.

    The line ends estimate how many messages the bytes hold (octet-counted
    frames have none). (0, 0) when the socket cannot tell.
    """
    try:
        answer = fcntl.ioctl(conn.fileno(), termios.FIONREAD, b"\0\0\0\0")
        waiting = struct.unpack("i", answer)[0]
        if not waiting:
            return 0, 0
        unread = conn.recv(waiting, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return 0, 0
    return waiting, unread.count(b"\n")


def _discard_datagrams(sock: socket.socket) -> int:
    """Read and count the datagrams ``sock`` holds, at most a buffer's worth.

    The bound keeps a sender that never pauses from holding shutdown up.
    """
    sock.setblocking(False)
    budget = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    count = 0
    while budget > 0:
        try:
            budget -= len(sock.recv(UDP_READ_BYTES)) + 1
        except OSError:  # BlockingIOError included: nothing more is waiting.
            break
        count += 1
    return count
