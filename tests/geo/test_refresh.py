import bisect
import ipaddress
import random
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from geo import index
from geo.models import IPRange, RefreshRun, Registry, Snapshot
from geo.refresh import acquire_lock, refresh_registries, refresh_registry
from tests.geo.conftest import (
    APNIC_RECORDS,
    RIPE_RECORDS,
    delegated,
    md5_text,
    write_registry,
)

pytestmark = pytest.mark.django_db


def active(registry: str) -> Snapshot | None:
    state = Registry.objects.filter(code=registry).first()
    return state.active_snapshot if state else None


def file_ranges(path) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Read allocated and assigned ranges with ipaddress, independently."""
    found = {4: [], 6: []}
    for line in path.read_text().splitlines():
        fields = line.split("|")
        if len(fields) < 7 or fields[6] not in ("allocated", "assigned"):
            continue
        if fields[2] == "ipv4":
            first = int(ipaddress.IPv4Address(fields[3]))
            found[4].append((first, first + int(fields[4]) - 1, fields[1]))
        elif fields[2] == "ipv6":
            block = ipaddress.IPv6Network(f"{fields[3]}/{fields[4]}")
            found[6].append(
                (int(block.network_address), int(block.broadcast_address), fields[1])
            )
    return sorted(found[4]), sorted(found[6])


def expected_code(ranges, number: int) -> str:
    position = bisect.bisect_right(ranges, (number, float("inf"), "")) - 1
    if position >= 0 and ranges[position][0] <= number <= ranges[position][1]:
        return ranges[position][2]
    return ""


def test_real_files_load_and_10000_lookups_match_the_files(rir_dir):
    results = refresh_registries(["afrinic", "lacnic"], source=str(rir_dir))

    assert [r.outcome for r in results] == ["loaded", "loaded"]
    assert active("afrinic").range_count == 5889
    assert active("lacnic").range_count == 31391
    assert IPRange.objects.count() == 5889 + 31391
    v4, v6 = [], []
    for registry in ("afrinic", "lacnic"):
        four, six = file_ranges(rir_dir / f"delegated-{registry}-extended-latest")
        v4 += four
        v6 += six
    v4.sort()
    v6.sort()

    rng = random.Random(4)
    probes = []
    for _ in range(3500):
        first, last, _code = rng.choice(v4)
        probes.append((4, rng.randint(first, last)))
        probes.append((4, rng.randrange(2**32)))
        first, last, _code = rng.choice(v6)
        probes.append((6, rng.randint(first, last)))
    probes = probes[:10000]
    for version, number in probes:
        ranges = v4 if version == 4 else v6
        address = str(ipaddress.ip_address(number))
        assert index.lookup(address) == expected_code(ranges, number), address
    assert sum(1 for version, n in probes if version == 4 and not expected_code(v4, n))


def test_registry_that_fails_keeps_its_data_while_others_update(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    write_registry(tmp_path, "ripencc", delegated("ripencc", RIPE_RECORDS))
    refresh_registries(["apnic", "ripencc"], source=str(tmp_path))
    good = active("apnic")

    (tmp_path / "delegated-apnic-extended-latest").write_bytes(b"<html>oops</html>")
    newer = delegated("ripencc", RIPE_RECORDS[:2], serial="20240102")
    write_registry(tmp_path, "ripencc", newer)
    results = refresh_registries(["apnic", "ripencc"], source=str(tmp_path))

    assert [r.outcome for r in results] == ["failed", "loaded"]
    assert active("apnic") == good
    assert active("ripencc").serial == "20240102"
    assert Registry.objects.get(code="apnic").last_error.startswith("checksum")
    assert index.lookup("1.0.16.1") == "JP"
    assert index.lookup("2.16.6.1") == "NL"
    assert IPRange.objects.filter(registry="ripencc").count() == 2
    assert Snapshot.objects.filter(registry="ripencc").count() == 1


def _faulty_apnic(fault: str) -> tuple[bytes, str | None]:
    """Return (file bytes, .md5 text or None for a matching one)."""
    good = delegated("apnic", APNIC_RECORDS, serial="20240105")
    if fault == "checksum":
        return good, md5_text(b"other bytes", "delegated-apnic-extended-latest")
    if fault == "html":
        return b"<!DOCTYPE html><html><body>Moved</body></html>", None
    if fault == "registry":
        return delegated("arin", APNIC_RECORDS, serial="20240105"), None
    if fault == "version":
        return delegated("apnic", APNIC_RECORDS, version="1", serial="20240105"), None
    if fault == "count":
        return good.replace(b"|20240105|6|", b"|20240105|7|"), None
    if fault == "summary":
        swapped = good.replace(b"|ipv4|*|4|", b"|ipv4|*|5|")
        return swapped.replace(b"|ipv6|*|1|", b"|ipv6|*|0|"), None
    if fault == "record":
        return good.replace(b"1.0.16.0", b"1.0.16.999"), None
    if fault == "truncated":
        return good[: len(good) - 30], None
    if fault == "older":
        return delegated("apnic", APNIC_RECORDS[:1], serial="20231231"), None
    raise AssertionError(fault)


@pytest.mark.parametrize(
    "fault",
    [
        "checksum",
        "html",
        "registry",
        "version",
        "count",
        "summary",
        "record",
        "truncated",
        "older",
    ],
)
def test_each_validation_failure_keeps_the_last_good_snapshot(tmp_path, fault):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    refresh_registry("apnic", source=str(tmp_path))
    good = active("apnic")
    ranges_before = IPRange.objects.count()

    data, md5 = _faulty_apnic(fault)
    path = write_registry(tmp_path, "apnic", data)
    if md5 is not None:
        path.with_name(path.name + ".md5").write_text(md5)
    result = refresh_registry("apnic", source=str(tmp_path))

    state = Registry.objects.get(code="apnic")
    assert result.outcome == "failed"
    assert state.active_snapshot == good
    assert state.last_error.split(":")[0] in {fault, "checksum", "record", "count"}
    assert state.last_error_at is not None
    assert IPRange.objects.count() == ranges_before
    assert Snapshot.objects.filter(registry="apnic").count() == 1
    assert RefreshRun.objects.filter(source="apnic", outcome="failed").count() == 1
    assert index.lookup("1.0.16.1") == "JP"


def test_missing_registry_is_recorded_and_others_still_load(rir_dir):
    results = refresh_registries(source=str(rir_dir))

    outcomes = {r.registry: r.outcome for r in results}
    assert outcomes == {
        "afrinic": "loaded",
        "apnic": "failed",
        "arin": "failed",
        "lacnic": "loaded",
        "ripencc": "failed",
    }
    assert Registry.objects.get(code="arin").last_error.startswith("missing")


def test_same_file_again_is_unchanged_and_loads_nothing(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    first = refresh_registry("apnic", source=str(tmp_path))

    second = refresh_registry("apnic", source=str(tmp_path))

    assert (first.outcome, second.outcome) == ("loaded", "unchanged")
    assert Snapshot.objects.count() == 1
    assert Registry.objects.get(code="apnic").last_success_at is not None


def test_newer_file_swaps_and_old_snapshot_is_deleted(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    refresh_registry("apnic", source=str(tmp_path))
    assert index.lookup("1.0.16.1") == "JP"
    old = active("apnic")

    moved = [("KR", *APNIC_RECORDS[0][1:]), *APNIC_RECORDS[1:]]
    write_registry(tmp_path, "apnic", delegated("apnic", moved, serial="20240102"))
    refresh_registry("apnic", source=str(tmp_path))

    assert not Snapshot.objects.filter(pk=old.pk).exists()
    assert not IPRange.objects.filter(snapshot_id=old.pk).exists()
    assert active("apnic").status == Snapshot.Status.ACTIVE
    assert index.lookup("1.0.16.1") == "JP"
    assert index.reload_if_changed(max_age_seconds=60) is False
    assert index.reload_if_changed(max_age_seconds=0) is True
    assert index.lookup("1.0.16.1") == "KR"
    assert index.reload_if_changed(max_age_seconds=0) is False


def test_lookups_never_see_unknown_while_a_snapshot_swaps(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    refresh_registry("apnic", source=str(tmp_path))
    index.current_index()
    answers: list[str] = []
    stop = threading.Event()

    def keep_looking() -> None:
        while not stop.is_set() and len(answers) < 10_000:
            answers.append(index.lookup("1.0.16.1"))

    reader = threading.Thread(target=keep_looking)
    reader.start()
    for serial in ("20240102", "20240103"):
        write_registry(
            tmp_path, "apnic", delegated("apnic", APNIC_RECORDS, serial=serial)
        )
        refresh_registry("apnic", source=str(tmp_path))
        index.reload_if_changed(max_age_seconds=0)
    stop.set()
    reader.join(timeout=10)

    assert answers
    assert set(answers) == {"JP"}
    assert index.current_index().key == (("apnic", active("apnic").pk),)


def test_second_worker_finds_the_registry_locked(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    Registry.objects.get_or_create(code="apnic")
    token = acquire_lock("apnic")

    result = refresh_registry("apnic", source=str(tmp_path))

    assert token is not None
    assert acquire_lock("apnic") is None
    assert result.outcome == "locked"
    assert not Snapshot.objects.exists()
    assert RefreshRun.objects.get(source="apnic").outcome == "locked"


def test_lock_of_a_dead_worker_expires(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    Registry.objects.update_or_create(
        code="apnic",
        defaults={
            "lock_token": "dead",
            "locked_until": timezone.now() - timedelta(seconds=1),
        },
    )

    result = refresh_registry("apnic", source=str(tmp_path))

    state = Registry.objects.get(code="apnic")
    assert result.outcome == "loaded"
    assert (state.lock_token, state.locked_until) == ("", None)


def test_leftovers_of_a_crashed_load_are_removed_on_the_next_run(tmp_path):
    crashed = Snapshot.objects.create(
        registry="apnic", version="2.3", serial="20240101", file_date="2024-01-01"
    )
    IPRange.objects.create(
        snapshot=crashed,
        registry="apnic",
        country_code="JP",
        ip_version=4,
        start_ip="1.0.16.0",
        end_ip="1.0.31.255",
        status="allocated",
    )
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))

    refresh_registry("apnic", source=str(tmp_path))

    assert not Snapshot.objects.filter(pk=crashed.pk).exists()
    assert Snapshot.objects.get().status == Snapshot.Status.ACTIVE
    assert IPRange.objects.count() == 4


def test_overlap_between_registries_resolves_to_the_newest_file(tmp_path):
    block = ("10.0.0.0", "65536")
    arin = [("US", "ipv4", *block, "20100101", "allocated")]
    ripe = [("DE", "ipv4", *block, "20230101", "allocated")]
    write_registry(tmp_path, "arin", delegated("arin", arin, serial="20240101"))
    write_registry(tmp_path, "ripencc", delegated("ripencc", ripe, serial="20240102"))

    refresh_registries(["ripencc", "arin"], source=str(tmp_path))

    built = index.current_index()
    assert index.lookup("10.0.200.1") == "DE"
    assert (built.overlap_count, built.cross_registry_overlap_count) == (1, 1)


def test_active_ranges_yield_text_addresses_per_country(tmp_path):
    write_registry(tmp_path, "apnic", delegated("apnic", APNIC_RECORDS))
    refresh_registry("apnic", source=str(tmp_path))

    everything = list(index.active_ranges())
    japan = list(index.active_ranges("jp"))

    assert japan == [
        ("JP", "1.0.16.0", "1.0.31.255"),
        ("JP", "2001:200::", "2001:3ff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ]
    assert len(everything) == 4


def test_database_without_snapshots_answers_unknown():
    assert index.lookup("1.0.16.1") == ""
    assert index.current_index().key == ()


def test_http_download_loads_and_every_fault_keeps_the_data(http_source):
    base, served, faults = http_source
    write_registry(served, "apnic", delegated("apnic", APNIC_RECORDS))
    write_registry(served, "ripencc", delegated("ripencc", RIPE_RECORDS))
    loaded = refresh_registries(["apnic", "ripencc"], source=base)
    assert [r.outcome for r in loaded] == ["loaded", "loaded"]
    name = "delegated-apnic-extended-latest"
    newer = delegated("apnic", APNIC_RECORDS[:2], serial="20240109")

    for day, (fault, reason) in enumerate(
        [
            ("truncate", "truncated"),
            ("html", "html"),
            ("error", "http"),
            ("missing", "missing"),
            ("md5", "checksum"),
        ],
        start=10,
    ):
        faults.clear()
        write_registry(served, "apnic", newer)
        if fault == "missing":
            (served / name).unlink()
        elif fault == "md5":
            (served / f"{name}.md5").write_text(md5_text(b"x", name, "gnu"))
        else:
            faults[name] = fault
        ripe = delegated("ripencc", RIPE_RECORDS, serial=f"202402{day}")
        write_registry(served, "ripencc", ripe)

        results = refresh_registries(["apnic", "ripencc"], source=base)

        assert [r.outcome for r in results] == ["failed", "loaded"], fault
        assert results[0].message.startswith(reason), results[0].message
        assert active("apnic").serial == "20240101"
        assert IPRange.objects.filter(registry="apnic").count() == 4

    faults.clear()
    write_registry(served, "apnic", newer)
    assert refresh_registry("apnic", source=base).outcome == "loaded"
    assert active("apnic").serial == "20240109"
