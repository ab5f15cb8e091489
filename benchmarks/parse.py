"""Print parse microseconds per message for each envelope and shape family.

Run with ``.venv/bin/python benchmarks/parse.py [--iterations N]``. Only
the parsers run (no database, no sockets), so it takes seconds; the same
figures open ``benchmarks/ingest.py``'s output. Each figure is the median
of per-batch averages (see ``events.parsers.bench``); on a machine shared
with other work, run it twice and compare.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from events.parsers import bench  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20_000)
    options = parser.parse_args()

    print("parse, median microseconds per line")
    for family, micros in bench.run(options.iterations):
        print(f"  {family:<40} {micros:6.2f} us")


if __name__ == "__main__":
    main()
