"""Messages the database could not take before shutdown, kept on disk.

When the listener must stop while the database is away, what it had read
but not committed is written here as JSON lines (raw bytes in base64, the
sender, the transport and the receive time). The next start replays these
files through the parsers and the writer before it opens its sockets, and
deletes each file once its rows are committed.
"""

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)


def spool_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "spool"


def write_spool(var_dir: Path, records: Iterable[tuple]) -> Path | None:
    """Write (raw, peer, transport, received_at) records; return the file.

    The file is written under a temporary name and renamed, so a crash
    while writing never leaves half a file that replay would trust.
    """
    records = list(records)
    if not records:
        return None

    directory = spool_dir(var_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = directory / f"undelivered-{stamp}.jsonl"
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="ascii") as spool:
        for raw, peer, transport, received_at in records:
            line = {
                "raw": base64.b64encode(raw).decode("ascii"),
                "peer": peer,
                "transport": transport,
                "received_at": received_at.isoformat(),
            }
            spool.write(json.dumps(line) + "\n")
    partial.rename(path)
    logger.warning("spooled undelivered messages rows=%d path=%s", len(records), path)
    return path


def spooled_files(var_dir: Path) -> list[Path]:
    return sorted(spool_dir(var_dir).glob("undelivered-*.jsonl"))


def read_spool(path: Path) -> Iterator[tuple[bytes, str | None, str, datetime]]:
    """Yield the records of one spool file; a damaged line is skipped."""
    with path.open(encoding="ascii", errors="replace") as spool:
        for number, line in enumerate(spool, start=1):
            try:
                record = json.loads(line)
                yield (
                    base64.b64decode(record["raw"]),
                    record["peer"],
                    record["transport"],
                    datetime.fromisoformat(record["received_at"]),
                )
            except (ValueError, KeyError, TypeError):
                logger.error("damaged spool line skipped path=%s line=%d", path, number)
