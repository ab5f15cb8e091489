"""The ingest queue and the writer's batches: bounded by count and bytes."""

import queue
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from events.ingest.devices import DeviceDirectory, DeviceProfile
from events.ingest.pipeline import IngestCounters, IngestQueue, handle_message
from events.ingest.writer import BatchWriter

PROFILE = DeviceProfile(None, "auto", ZoneInfo("UTC"), True)


def message(size: int):
    raw = b"<134>" + b"x" * (size - 5)
    return handle_message(
        raw,
        peer="127.0.0.1",
        transport="udp",
        received_at=datetime.now(UTC),
        profile=PROFILE,
    )


def test_large_messages_fill_it_by_bytes_before_its_message_count():
    items = IngestQueue(maxsize=1000, max_bytes=100_000)

    for _ in range(3):
        items.put_nowait(message(40_000))

    with pytest.raises(queue.Full):
        items.put_nowait(message(100))
    assert items.qsize() == 3
    assert not items.empty()

    items.get_nowait()
    items.put_nowait(message(100))  # 80 100 bytes held: room again
    assert items.qsize() == 3


def test_small_messages_fill_it_by_count():
    items = IngestQueue(maxsize=2, max_bytes=100_000)
    items.put_nowait(message(100))
    items.put_nowait(message(100))

    with pytest.raises(queue.Full):
        items.put_nowait(message(100))


def test_one_message_larger_than_the_byte_bound_is_let_in_and_taken_out():
    items = IngestQueue(maxsize=10, max_bytes=1_000)

    items.put_nowait(message(65_536))

    with pytest.raises(queue.Full):
        items.put_nowait(message(100))
    assert len(items.get_nowait().raw) == 65_536
    assert items.empty()
    with pytest.raises(queue.Empty):
        items.get_nowait()


def test_a_waiting_put_goes_in_once_the_writer_takes_bytes_out():
    items = IngestQueue(maxsize=1000, max_bytes=50_000)
    items.put_nowait(message(60_000))
    done = threading.Event()

    def put() -> None:
        items.put(message(100), timeout=10)
        done.set()

    putter = threading.Thread(target=put)
    putter.start()
    assert not done.wait(0.2)

    items.get(timeout=1)
    putter.join(timeout=10)

    assert done.is_set()
    assert items.qsize() == 1


def test_the_writer_gathers_a_batch_up_to_its_byte_bound(monkeypatch):
    monkeypatch.setattr("events.ingest.writer.BATCH_MAX_BYTES", 100_000)
    items = IngestQueue(maxsize=1000, max_bytes=10_000_000)
    for _ in range(10):
        items.put_nowait(message(30_000))
    writer = BatchWriter(
        items, IngestCounters(), DeviceDirectory(), batch_size=1000, flush_seconds=0
    )

    batch = writer._collect()

    # 4 x 30 000 bytes reach the bound; the rest waits for the next batch.
    assert len(batch) == 4
    assert items.qsize() == 6


def test_slowed_senders_leave_the_rest_of_the_queue_to_datagrams():
    items = IngestQueue(maxsize=10, max_bytes=10_000_000, slowed_share=0.2)
    for _ in range(2):
        items.put_yielding(message(100), timeout=1)

    with pytest.raises(queue.Full):
        items.put_yielding(message(100), timeout=0.05)
    for _ in range(8):
        items.put_nowait(message(100))  # datagrams still get in
    assert items.qsize() == 10
    with pytest.raises(queue.Full):
        items.put_nowait(message(100))

    for _ in range(9):
        items.get_nowait()
    items.put_yielding(message(100), timeout=1)
    assert items.qsize() == 2


def test_slowed_senders_leave_the_rest_of_the_bytes_too():
    items = IngestQueue(maxsize=1000, max_bytes=100_000, slowed_share=0.2)
    items.put_yielding(message(25_000), timeout=1)

    with pytest.raises(queue.Full):
        items.put_yielding(message(100), timeout=0.05)
    items.put_nowait(message(50_000))
