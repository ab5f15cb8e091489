"""Print parse microseconds per message for each envelope and shape family.

Run with ``.venv/bin/python benchmarks/parse.py [--iterations N] [--cpu]``.
Only the parsers run (no database, no sockets), so it takes seconds; the
same figures open ``benchmarks/ingest.py``'s output. Each figure is the
median of per-batch averages (see ``events.parsers.bench``). On a machine
shared with other work, ``--cpu`` leaves out the time other processes hold
the CPU; run it twice and compare.

``--instructions`` counts instead the machine instructions per message
under valgrind's callgrind (``apt-get install valgrind``). The count does
not depend on what else the machine is doing, so it compares two versions
of the parsers where times on a shared machine cannot; it takes a minute
or two.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.parsers import bench, parse_message  # noqa: E402

# Messages parsed per counted run; the count of a run with none is taken
# off, which leaves the interpreter's start-up and the warm-up out.
COUNTED = 2000
_COLLECTED_RE = re.compile(rb"Collected : (\d+)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="count this process's CPU time instead of wall time",
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions per message under valgrind instead of time",
    )
    parser.add_argument("--repeat", nargs=2, type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()

    if options.repeat:
        repeat(*options.repeat)
        return
    print(interpreter())
    if options.instructions:
        print("parse, machine instructions per line (callgrind)")
        for family, count in count_instructions():
            print(f"  {family:<40} {count:8,}")
    else:
        clock = time.process_time_ns if options.cpu else time.perf_counter_ns
        kind = "CPU" if options.cpu else "wall"
        print(f"parse, median microseconds per line ({kind} time)")
        for family, micros in bench.run(options.iterations, clock):
            print(f"  {family:<40} {micros:6.2f} us")
        print_real_lines(bench.run_real_lines(clock=clock))


def interpreter() -> str:
    """Name the Python running this: parse figures depend on its build.

    A build with profile-guided optimisation and LTO, such as Debian's
    ``python3`` package, parses about a fifth faster than a plain source
    build, such as pyenv's default.
    """
    return f"Python {platform.python_version()} from {sys.base_prefix}"


def print_real_lines(micros: list[float]) -> None:
    """Print the spread of ``bench.run_real_lines``'s figures."""
    print(
        f"  real pfSense/OPNsense lines ({len(micros)} filter lines): "
        f"median {statistics.median(micros):.2f} us, "
        f"slowest {micros[-1]:.2f} us"
    )


def repeat(index: int, count: int) -> None:
    """Parse sample ``index`` 200 times to warm up, then ``count`` times."""
    raw = bench.SAMPLES[index][1]
    received_at = datetime(2021, 7, 4, 0, 10, 31, tzinfo=UTC)
    tz = ZoneInfo("America/Chicago")
    for _ in range(200 + count):
        parse_message(raw, received_at=received_at, tz=tz)


def count_instructions() -> list[tuple[str, int]]:
    """Return (family, instructions per message) for every sample."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counts = list(pool.map(_per_message, range(len(bench.SAMPLES))))
    names = [name for name, _raw in bench.SAMPLES]
    return list(zip(names, counts, strict=True))


def _per_message(index: int) -> int:
    counted = _collected(index, COUNTED) - _collected(index, 0)
    return round(counted / COUNTED)


def _collected(index: int, count: int) -> int:
    """Instructions of one run of ``repeat(index, count)`` under callgrind."""
    command = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        __file__,
        "--repeat",
        str(index),
        str(count),
    ]
    # A fixed hash seed: dictionary probes, and so the count, then repeat.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(command, capture_output=True, env=environment, check=True)
    except FileNotFoundError:
        sys.exit("valgrind is not installed (Debian: apt-get install valgrind)")
    match = _COLLECTED_RE.search(done.stderr)
    if match is None:
        sys.exit(f"valgrind printed no instruction count:\n{done.stderr.decode()}")
    return int(match[1])


if __name__ == "__main__":
    main()
