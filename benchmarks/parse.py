"""Print parse microseconds per message for each envelope and shape family.

Run with ``.venv/bin/python benchmarks/parse.py [--iterations N] [--cpu]``.
Only the parsers run (no database, no sockets), so it takes seconds; the
same figures open ``benchmarks/ingest.py``'s output. Each figure is the
median of per-batch averages (see ``events.parsers.bench``). On a machine
shared with other work, ``--cpu`` leaves out the time other processes hold
the CPU; run it twice and compare.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.parsers import bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="count this process's CPU time instead of wall time",
    )
    options = parser.parse_args()
    clock = time.process_time_ns if options.cpu else time.perf_counter_ns

    kind = "CPU" if options.cpu else "wall"
    print(f"parse, median microseconds per line ({kind} time)")
    for family, micros in bench.run(options.iterations, clock):
        print(f"  {family:<40} {micros:6.2f} us")


if __name__ == "__main__":
    main()
